"""``neurovision train-cordsnet``: the CordsNet initialisation pipeline, stage by stage, resumable.

Example (Fashion-MNIST, CordsNet-R2, the whole pipeline; run it again to resume)::

    neurovision train-cordsnet --dataset fashion-mnist --depth 2 --out runs/fmnist-r2

Data-parallel on 4 GPUs (batch sizes stay global)::

    torchrun --nproc_per_node=4 -m neurovision.cli train-cordsnet ... --device cuda --distributed
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..errors import NeurovisionError
from ..families.cordsnet.augment import PRESETS
from ..families.cordsnet.pipeline import CONTROL, STAGES, Pipeline, PipelineConfig, check_stages, export
from ..families.cordsnet.protocol import Protocol
from ..training.distributed import add_arguments, session
from ._common import add_device, resolve_device

#: stages with their own training options
STAGE_OPTIONS = ("cnn", "fit", "linear", "anneal", "finetune", "direct")


def register(sub) -> None:
    parser = sub.add_parser(
        "train-cordsnet",
        help="train a CordsNet: CNN -> fold -> fit -> linear -> anneal -> finetune (resumable)",
        description="Runs the stages in order into --out, one checkpoint per stage; finished "
                    "stages are loaded, an interrupted one resumes from its progress checkpoint.",
    )
    parser.add_argument("--dataset", default="fashion-mnist",
                        help="fashion-mnist, cifar10-subset (local), mnist, cifar10, cifar100 (torchvision) or "
                             "folder:<root> (ImageNet layout: <root>/train/<class>/, <root>/val/<class>/)")
    parser.add_argument("--depth", type=int, default=2, choices=[2, 4, 6, 8])
    parser.add_argument("--image-size", type=int, default=None,
                        help="input side in px (default: native size; the authors resize to 224)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (checkpoints, logs, metrics)")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated subset of {','.join(STAGES + (CONTROL,))} (default: all but {CONTROL})")
    parser.add_argument("--augment", default="light", choices=PRESETS)
    parser.add_argument("--train-limit", type=int, default=None, help="seeded random subset of training images")
    parser.add_argument("--eval-limit", type=int, default=2000,
                        help="test images evaluated after each stage (0: the whole test split)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="only re-evaluate the finished --stages on --eval-limit test images")
    parser.add_argument("--anneal-levels", type=int, default=20)
    parser.add_argument("--steps", default="image:100,return:100,ce:30,penalty:10",
                        help="protocol lengths in steps of dt")
    parser.add_argument("--spontaneous-weight", type=float, default=1e-3)
    for stage in STAGE_OPTIONS:
        group = parser.add_argument_group(f"stage {stage}")
        group.add_argument(f"--{stage}-epochs", type=int, default=None)
        group.add_argument(f"--{stage}-steps", type=int, default=None, help="batches per epoch")
        group.add_argument(f"--{stage}-lr", type=float, default=None)
        group.add_argument(f"--{stage}-batch-size", type=int, default=None)
    parser.add_argument("--grad-clip", type=float, default=None, help="gradient-norm clip of every stage")
    parser.add_argument("--nan-policy", default=None, choices=["stop", "skip", "reduce-lr"],
                        help="non-finite loss or state: stop (default; names area and step) or skip the batch")
    parser.add_argument("--export", type=Path, default=None,
                        help="write the last finished stage as a standalone checkpoint here")
    parser.add_argument("--model-id", default=None, help="model id stored in the exported checkpoint")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_device(parser)
    add_arguments(parser)
    parser.set_defaults(func=run)


def _protocol(text: str, weight: float) -> Protocol:
    names = {"spontaneous": "spontaneous_steps", "image": "image_steps", "return": "return_steps",
             "ce": "ce_steps", "penalty": "penalty_steps"}
    values = {}
    for token in filter(None, text.split(",")):
        key, _, number = token.partition(":")
        if key not in names or not number.isdigit():
            raise NeurovisionError(f"--steps entry {token!r}: expected name:int with name in {sorted(names)}")
        values[names[key]] = int(number)
    return Protocol(**values, spontaneous_weight=weight)


def build_config(args) -> PipelineConfig:
    """The :class:`PipelineConfig` described by the command-line options."""
    config = PipelineConfig(dataset=args.dataset, depth=args.depth, image_size=args.image_size,
                            augment=args.augment, train_limit=args.train_limit, eval_limit=args.eval_limit or None,
                            anneal_levels=args.anneal_levels, seed=args.seed,
                            protocol=_protocol(args.steps, args.spontaneous_weight))
    for stage in STAGE_OPTIONS:
        changes = {key: getattr(args, f"{stage}_{name}") for key, name in
                   (("epochs", "epochs"), ("steps_per_epoch", "steps"), ("lr", "lr"), ("batch_size", "batch_size"))}
        changes.update(grad_clip=args.grad_clip, nan_policy=args.nan_policy, seed=args.seed)
        changes = {k: v for k, v in changes.items() if v is not None}
        if stage == "cnn" and "epochs" in changes:  # step decay at 60 % and 90 % of the epochs
            changes["lr_milestones"] = (round(0.6 * changes["epochs"]), round(0.9 * changes["epochs"]))
        config = replace(config, **{stage: replace(getattr(config, stage), **changes)})
    return config


def run(args) -> int:
    stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    check_stages(stages)
    last = [s for s in stages if s != "cnn"]
    if args.export is not None and not last:
        raise NeurovisionError("--export needs a CordsNet stage (fold or later) in --stages")
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        pipeline = Pipeline(build_config(args), args.out, progress=not args.quiet, device=device, world=world)
        if args.evaluate_only:
            metrics = pipeline.evaluate_stages(stages) if world.is_main else {}
        else:
            metrics = pipeline.run(stages)
    if not world.is_main:
        return 0
    print(json.dumps(metrics, indent=2))
    if args.export is not None:
        model_id = args.model_id or pipeline.model_id
        export(pipeline.path(last[-1]), args.export, model_id)
        print(f"exported stage {last[-1]!r} to {args.export} as {model_id!r}")
    return 0
