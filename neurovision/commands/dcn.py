"""``neurovision dcn EXPERIMENT``: the Deep Continuous Networks experiments (Tomen et al. 2021)."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import NeurovisionError
from ..io import atomic_path
from ._common import add_device, resolve_device


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NeurovisionError(f"expected comma-separated integers, got {text!r}") from None


def _add_run_options(parser) -> None:
    parser.add_argument("--epochs", type=int, default=100, help="training epochs (paper: 100)")
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size (paper: 128)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate at batch 128 (scaled linearly)")
    parser.add_argument("--method", default="dopri5", help="ODE solver: dopri5 (paper) or euler, midpoint, rk4")
    parser.add_argument("--steps", type=int, default=None, help="steps per block of a fixed-step solver")
    parser.add_argument("--adjoint", action="store_true", help="back-propagate with the adjoint method")
    parser.add_argument("--no-augment", action="store_true", help="no random translations and flips")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    add_device(parser)


def _base_config(args):
    from ..training.dcn_classification import RunConfig

    if args.epochs < 1 or args.batch_size < 1:
        raise NeurovisionError("--epochs and --batch-size must be >= 1")
    return RunConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, method=args.method,
                     steps=args.steps, adjoint=args.adjoint, augment=not args.no_augment, seed=args.seed)


def _write_json(data: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}")


def register(sub) -> None:
    parser = sub.add_parser("dcn", help="Deep Continuous Networks experiments (train, analyse, figures)")
    experiments = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)

    small = experiments.add_parser("small-data", help="Table 2: accuracy when training on k images per class")
    small.add_argument("--variants", default="dcn-ode,odenet,resnet-blocks", help="comma-separated model ids")
    small.add_argument("--k", default="128", help="images per class, comma-separated (e.g. 16,64,128)")
    small.add_argument("--repeats", type=int, default=3, help="runs with seeds --seed, --seed + 1, ... (paper: 3)")
    small.add_argument("--test-per-class", type=int, default=1000, help="test images per class (max 1000)")
    small.add_argument("--out", type=Path, default=Path("results/dcn/small_data"))
    _add_run_options(small)
    small.set_defaults(func=run_small_data)


def run_small_data(args) -> int:
    import torch

    from ..frontends.dcn import VARIANTS
    from ..training.dcn_classification import small_data, summarise

    torch.set_num_threads(1)
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise NeurovisionError(f"unknown variants {unknown}; choose from {sorted(VARIANTS)}")
    if args.repeats < 1:
        raise NeurovisionError(f"--repeats must be >= 1, got {args.repeats}")
    seeds = list(range(args.seed, args.seed + args.repeats))
    summaries = small_data(variants, _ints(args.k), seeds, _base_config(args), args.out,
                           args.test_per_class, resolve_device(args.device), args.progress)
    table = summarise(summaries)
    for key, row in table.items():
        print(f"{key:28s} {row['mean']:6.2f} +- {row['std']:5.2f}  (n={row['n']})")
    _write_json(table, args.out / "summary.json")
    return 0
