"""``neurovision train cordsnet``: the CordsNet initialisation pipeline, stage by stage, resumable.

Example (Fashion-MNIST, CordsNet-R2, the whole pipeline; run it again to resume)::

    neurovision train cordsnet --dataset fashion-mnist --depth 2 --out runs/fmnist-r2

Data-parallel on 4 GPUs (batch sizes stay global)::

    torchrun --nproc_per_node=4 -m neurovision train cordsnet ... --device cuda --distributed
"""
from __future__ import annotations

import argparse
import json

from ..errors import NeurovisionError
from ._common import (add_device, add_distributed, add_download, add_out, add_quiet, enable_downloads,
                      non_negative_float, non_negative_int, out_file, positive_float, positive_int,
                      resolve_device)

PARENT = "train"
#: stages with their own training options (neurovision.families.cordsnet.pipeline: STAGES + CONTROL)
STAGE_OPTIONS = ("cnn", "fit", "linear", "anneal", "finetune", "direct")
STAGES = ("cnn", "fold", "fit", "linear", "anneal", "finetune")
CONTROL = "direct"
#: augmentation presets (neurovision.families.cordsnet.augment.PRESETS)
AUGMENT = ("paper", "light", "none")
#: protocol epochs, in Euler steps of dt = 2 ms
PROTOCOL = {"spontaneous": "spontaneous_steps", "image": "image_steps", "return": "return_steps",
            "ce": "ce_steps", "penalty": "penalty_steps"}


def register(sub) -> None:
    parser = sub.add_parser(
        "cordsnet",
        help="train a CordsNet: CNN -> fold -> fit -> linear -> anneal -> finetune (resumable)",
        description="Runs the stages in order into --out, one checkpoint per stage; finished "
                    "stages are loaded, an interrupted one resumes from its progress checkpoint.")
    parser.add_argument("--dataset", default="fashion-mnist",
                        help="fashion-mnist, cifar10-subset (local), mnist, cifar10, cifar100 (torchvision, see "
                             "--download) or folder:<root> (ImageNet layout: <root>/train/<class>/, <root>/val/<class>/)")
    parser.add_argument("--depth", type=int, default=2, choices=[2, 4, 6, 8], help="number of recurrent areas")
    parser.add_argument("--image-size", type=positive_int, default=None,
                        help="input side in px (default: native size; the authors resize to 224)")
    add_out(parser, help="output folder (checkpoints, logs, metrics)")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated subset of {','.join(STAGES + (CONTROL,))} (default: all but {CONTROL})")
    parser.add_argument("--augment", default="light", choices=AUGMENT, help="training-image augmentation")
    parser.add_argument("--train-limit", type=positive_int, default=None,
                        help="seeded random subset of this many training images (default: all)")
    parser.add_argument("--eval-limit", type=non_negative_int, default=2000,
                        help="test images evaluated after each stage (0: the whole test split)")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="only re-evaluate the finished --stages on --eval-limit test images")
    parser.add_argument("--anneal-levels", type=positive_int, default=20,
                        help="slopes of the annealed activation, from linear to ReLU")
    parser.add_argument("--protocol-steps", default="image:100,return:100,ce:30,penalty:10",
                        help="protocol epochs as name:steps, in Euler steps of dt = 2 ms; names: "
                             + ", ".join(PROTOCOL))
    parser.add_argument("--spontaneous-weight", type=non_negative_float, default=1e-3,
                        help="loss weight of the spontaneous-activity penalty")
    for stage in STAGE_OPTIONS:
        group = parser.add_argument_group(f"stage {stage}")
        group.add_argument(f"--{stage}-epochs", type=positive_int, default=None,
                           help="training epochs (default: the stage's own)")
        group.add_argument(f"--{stage}-train-steps", type=positive_int, default=None,
                           help="optimisation steps (batches) per epoch (default: the stage's own)")
        group.add_argument(f"--{stage}-lr", type=positive_float, default=None,
                           help="learning rate (default: the stage's own)")
        group.add_argument(f"--{stage}-batch-size", type=positive_int, default=None,
                           help="images per batch (default: the stage's own)")
        group.add_argument(f"--{stage}-lr-milestones", type=epoch_list, default=None,
                           help="comma-separated epochs after which the learning rate is multiplied by 0.1 "
                                "(default: the stage's own; cnn: 60 %% and 90 %% of --cnn-epochs)")
    parser.add_argument("--freeze-features", action="store_true",
                        help="anneal and finetune keep the kernel directions of the feed-forward convolutions "
                             "inherited from the CNN (their gains, recurrent kernels, biases and read-out train)")
    parser.add_argument("--grad-clip", type=positive_float, default=None,
                        help="gradient-norm clip of every stage (default: none)")
    parser.add_argument("--nan-policy", default=None, choices=["stop", "skip", "reduce-lr"],
                        help="non-finite loss or state: stop (names area and step), skip the batch or "
                             "reduce the learning rate (default: stop)")
    parser.add_argument("--export", type=out_file, default=None,
                        help="write the last finished stage as a standalone checkpoint file here")
    parser.add_argument("--model-id", default=None, help="model id stored in the exported checkpoint "
                        "(default: the pipeline's)")
    add_quiet(parser)
    add_download(parser)
    add_device(parser)
    add_distributed(parser)
    parser.set_defaults(func=run)


def epoch_list(text: str) -> tuple[int, ...]:
    """Comma-separated epochs ("2" or "6,9") as an increasing tuple of positive integers."""
    epochs = tuple(positive_int(token) for token in text.split(","))
    if list(epochs) != sorted(set(epochs)):
        raise argparse.ArgumentTypeError(f"epochs must increase, got {text}")
    return epochs


def _protocol(text: str, weight: float):
    from ..families.cordsnet.protocol import Protocol

    values = {}
    for token in filter(None, text.split(",")):
        key, _, number = token.partition(":")
        if key not in PROTOCOL or not number.isdigit():
            raise NeurovisionError(f"--protocol-steps entry {token!r}: write name:steps with name in "
                                   f"{sorted(PROTOCOL)} and a whole number of Euler steps")
        values[PROTOCOL[key]] = int(number)
    return Protocol(**values, spontaneous_weight=weight)


def build_config(args):
    """The :class:`PipelineConfig` described by the command-line options."""
    from dataclasses import replace

    from ..families.cordsnet.pipeline import PipelineConfig

    config = PipelineConfig(dataset=args.dataset, depth=args.depth, image_size=args.image_size,
                            augment=args.augment, train_limit=args.train_limit, eval_limit=args.eval_limit or None,
                            anneal_levels=args.anneal_levels, freeze_features=args.freeze_features, seed=args.seed,
                            protocol=_protocol(args.protocol_steps, args.spontaneous_weight))
    for stage in STAGE_OPTIONS:
        changes = {key: getattr(args, f"{stage}_{name}") for key, name in
                   (("epochs", "epochs"), ("steps_per_epoch", "train_steps"), ("lr", "lr"),
                    ("batch_size", "batch_size"), ("lr_milestones", "lr_milestones"))}
        changes.update(grad_clip=args.grad_clip, nan_policy=args.nan_policy, seed=args.seed)
        changes = {k: v for k, v in changes.items() if v is not None}
        if stage == "cnn" and "epochs" in changes:  # step decay at 60 % and 90 % of the epochs
            changes.setdefault("lr_milestones", (round(0.6 * changes["epochs"]), round(0.9 * changes["epochs"])))
        config = replace(config, **{stage: replace(getattr(config, stage), **changes)})
    return config


def run(args) -> int:
    from ..families.cordsnet.pipeline import Pipeline, check_stages, export
    from ..training.distributed import session

    enable_downloads(args)
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
