"""``neurovision train dcn``: Deep Continuous Networks and their baselines (Tomen et al. 2021).

* ``classify``: Table 1, one network on CIFAR-10, tested;
* ``small-data``: Table 2, networks trained on k images per class, several seeds;
* ``reconstruct``: Table 3, decoders trained on frozen block-3 features.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import NeurovisionError
from ._common import (add_device, add_distributed, add_download, add_out, add_quiet, enable_downloads,
                      positive_float, positive_int, resolve_device)

PARENT = "train"
#: default output folder of the DCN commands (ignored by git; the paper scripts in
#: experiments/tomen2021_dcn pass their own --out)
RESULTS = Path("runs/dcn")


def ints(text: str) -> list[int]:
    """``"16,64"`` -> [16, 64]."""
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NeurovisionError(f"expected comma-separated integers, got {text!r}; write e.g. 16,64,128") from None


def add_solver_options(parser) -> None:
    parser.add_argument("--method", default="dopri5", choices=["dopri5", "euler", "midpoint", "rk4"],
                        help="ODE solver (paper: dopri5)")
    parser.add_argument("--solver-steps", type=positive_int, default=None,
                        help="solver steps per ODE block for a fixed-step method (default: the block's own)")


def _add_run_options(parser) -> None:
    parser.add_argument("--epochs", type=positive_int, default=100, help="training epochs (paper: 100)")
    parser.add_argument("--batch-size", type=positive_int, default=128, help="images per batch (paper: 128)")
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate at batch 128 (scaled linearly)")
    add_solver_options(parser)
    parser.add_argument("--adjoint", action="store_true", help="back-propagate with the adjoint method")
    parser.add_argument("--no-augment", action="store_true", help="no random translations and flips")
    parser.add_argument("--init", default=None, help="start from this trained network's weights (.pt of the "
                        "same variant), e.g. to fine-tune with a finer solver (default: random)")
    add_quiet(parser)
    add_device(parser)
    add_distributed(parser)


def _base_config(args):
    from ..families.dcn.classification import RunConfig

    return RunConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, method=args.method,
                     steps=args.solver_steps, adjoint=args.adjoint, augment=not args.no_augment, seed=args.seed,
                     init=args.init)


def register(sub) -> None:
    parser = sub.add_parser("dcn", help="Deep Continuous Networks: classify, small-data, reconstruct",
                            description=__doc__)
    experiments = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)

    classify = experiments.add_parser("classify", help="Table 1: train one network on CIFAR-10 and test it")
    classify.add_argument("--variant", default="dcn-ode", help="model id, e.g. dcn-ode, odenet, resnet-blocks")
    classify.add_argument("--dataset", default="cifar10-subset", choices=["cifar10-subset", "cifar10"],
                          help="cifar10-subset is local; cifar10 is the full set (torchvision, see --download)")
    classify.add_argument("--test-per-class", type=positive_int, default=1000, help="test images per class")
    add_out(classify, default=RESULTS / "classification", help="output folder (one sub-folder per run)")
    add_download(classify)
    _add_run_options(classify)
    classify.set_defaults(func=run_classify)

    small = experiments.add_parser("small-data", help="Table 2: accuracy when training on k images per class")
    small.add_argument("--variants", default="dcn-ode,odenet,resnet-blocks", help="comma-separated model ids")
    small.add_argument("--train-per-class", default="128",
                       help="training images per class k, comma-separated (e.g. 16,64,128)")
    small.add_argument("--repeats", type=positive_int, default=3,
                       help="runs with seeds --seed, --seed + 1, ... (paper: 3)")
    small.add_argument("--test-per-class", type=positive_int, default=1000, help="test images per class (max 1000)")
    add_out(small, default=RESULTS / "small_data", help="output folder (one sub-folder per run)")
    _add_run_options(small)
    small.set_defaults(func=run_small_data)

    recon = experiments.add_parser("reconstruct", help="Table 3: decoders on frozen block-3 features")
    recon.add_argument("--encoders", required=True, help="comma-separated classifier checkpoints (.pt)")
    recon.add_argument("--train-per-class", type=positive_int, default=128, help="training images per class")
    recon.add_argument("--repeats", type=positive_int, default=3,
                       help="decoders per encoder, seeds --seed, --seed + 1, ...")
    recon.add_argument("--test-per-class", type=positive_int, default=100, help="test images per class")
    add_out(recon, default=RESULTS / "reconstruction", help="output folder (summary.json, one sub-folder per run)")
    _add_run_options(recon)
    recon.set_defaults(func=run_reconstruct)


def write_json(data: dict, path: Path) -> None:
    import json

    from ..io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}")


def run_classify(args) -> int:
    import numpy as np
    import torch

    from ..data.datasets import load_dataset
    from ..families.dcn.classification import train_run
    from ..training.distributed import session

    torch.set_num_threads(1)
    enable_downloads(args)
    config = _base_config(args)
    config.variant = args.variant
    train, test = load_dataset(args.dataset, "train"), load_dataset(args.dataset, "test")
    labels = test.labels.numpy()
    test = test.subset(np.concatenate([np.flatnonzero(labels == c)[:args.test_per_class] for c in range(10)]))
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        summary = train_run(config, train, test, args.out / f"{args.variant}-seed{args.seed}", device,
                            not args.quiet, world)
    if not world.is_main:
        return 0
    print(f"{args.variant}: test accuracy {summary['test']['accuracy']:.2f} %")
    return 0


def run_reconstruct(args) -> int:
    import numpy as np
    import torch

    from ..data.datasets import load_dataset
    from ..families.dcn.analysis import load_trained
    from ..families.dcn.classification import balanced_test_set
    from ..families.dcn.reconstruction import train_decoder
    from ..training.distributed import session

    torch.set_num_threads(1)
    train_all, test = load_dataset("cifar10-subset", "train"), balanced_test_set(args.test_per_class)
    results = {}
    with session(args.distributed) as (world, _):
        for path in (p for p in args.encoders.split(",") if p):
            encoder = load_trained(path)
            variant = encoder.name
            runs = []
            for seed in range(args.seed, args.seed + args.repeats):
                config = _base_config(args)
                config.variant, config.seed = variant, seed
                train = train_all.per_class(args.train_per_class, seed=seed)
                summary = train_decoder(encoder, variant, config, train.images, test.images,
                                        args.out / f"{variant}-decoder-seed{seed}", not args.quiet, world)
                runs.append(summary.get("test_mse_x1000"))
            if world.is_main:
                results[variant] = {"mse_x1000": runs, "mean": float(np.mean(runs)),
                                    "std": float(np.std(runs, ddof=1)) if len(runs) > 1 else 0.0}
                print(f"{variant:16s} reconstruction 1e3*MSE {results[variant]['mean']:.2f} "
                      f"+- {results[variant]['std']:.2f}")
    if world.is_main:
        write_json(results, args.out / "summary.json")
    return 0


def run_small_data(args) -> int:
    import torch

    from ..families.dcn import VARIANTS
    from ..families.dcn.classification import small_data, summarise
    from ..training.distributed import session

    torch.set_num_threads(1)
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise NeurovisionError(f"unknown variants {unknown}; choose from {sorted(VARIANTS)}")
    seeds = list(range(args.seed, args.seed + args.repeats))
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        summaries = small_data(variants, ints(args.train_per_class), seeds, _base_config(args), args.out,
                               args.test_per_class, device, not args.quiet, world)
    if not world.is_main:
        return 0
    table = summarise(summaries)
    for key, row in table.items():
        print(f"{key:28s} {row['mean']:6.2f} +- {row['std']:5.2f}  (n={row['n']})")
    write_json(table, args.out / "summary.json")
    return 0
