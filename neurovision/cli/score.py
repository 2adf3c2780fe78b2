"""``neurovision score MODEL BENCHMARK``: score a model against neural recordings bin by bin."""
from __future__ import annotations

from pathlib import Path

from ..errors import NeurovisionError
from ._common import (add_device, add_out, add_quiet, add_shift, non_negative_int, positive_float, positive_int,
                      resolve_device)


def register(sub) -> None:
    parser = sub.add_parser(
        "score", help="score a model against time-resolved neural data (results NetCDF + figure)",
        description="Record MODEL's activity over time on BENCHMARK's images, map it to the "
                    "neural responses bin by bin with cross-validation, and compare with shuffled "
                    "controls. Writes results.nc, figure.png and table.txt to --out.")
    parser.add_argument("model", help="registered model id (see `neurovision list models`)")
    parser.add_argument("benchmark", help="registered benchmark id, e.g. cowley2023.V4")
    add_out(parser, help="output folder (results.nc, figure.png, table.txt)")
    parser.add_argument("--time-bins", default=None,
                        help="neural time bins in ms after onset, start:stop:width (default: the benchmark's)")
    add_shift(parser)
    parser.add_argument("--shifts", default="0:100:10", help="candidate shifts for --shift auto (ms, start:stop:step)")
    parser.add_argument("--controls", default="temporal,image",
                        help="comma-separated controls: temporal, image, or 'none'")
    parser.add_argument("--permutations", type=non_negative_int, default=0,
                        help="image-shuffled draws for a permutation null of the mean score (default 0)")
    parser.add_argument("--area", default=None,
                        help="model area for the benchmark's region; 'auto' chooses on held-out stimuli "
                             "(default: the model's declaration, else auto)")
    parser.add_argument("--mode", choices=["spantime", "perbin"], default="spantime",
                        help="one mapping shared over time (Brain-Score) or one per bin")
    parser.add_argument("--regression", choices=["pls", "ridge"], default="pls",
                        help="cross-validated mapping from model features to neurons")
    parser.add_argument("--n-components", type=positive_int, default=25, help="PLS components")
    parser.add_argument("--alpha", type=positive_float, default=1.0, help="ridge penalty")
    parser.add_argument("--max-features", type=positive_int, default=1024,
                        help="areas with more units are spatially pooled to at most this many features")
    parser.add_argument("--nan-policy", choices=["raise", "drop-neuroids"], default="raise",
                        help="NaN responses: refuse them, or drop the neuroids that hold any")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass")
    add_quiet(parser)
    add_device(parser)
    parser.set_defaults(func=run)


def parse_controls(text: str) -> tuple[str, ...]:
    from ..brain.controls import CONTROLS

    if text.strip().lower() == "none":
        return ()
    names = tuple(c.strip() for c in text.split(",") if c.strip())
    unknown = [c for c in names if c not in CONTROLS]
    if unknown:
        raise NeurovisionError(f"unknown controls {unknown}; choose from {list(CONTROLS)} or 'none'")
    return names


def run(args) -> int:
    from ..brain.figure import save_figure
    from ..brain.results import format_table, save_results
    from ..brain.scoring import ScoreConfig, resolve_benchmark, score_model
    from ..io import atomic_path
    from ..seeding import seed_everything

    seed_everything(args.seed)
    device = resolve_device(args.device)
    if args.permutations < 0:
        raise NeurovisionError(f"--permutations must be >= 0, got {args.permutations}")
    config = ScoreConfig(mode=args.mode, regression=args.regression, n_components=args.n_components,
                         alpha=args.alpha, shift=args.shift, shifts=args.shifts,
                         controls=parse_controls(args.controls), n_permutations=args.permutations,
                         nan_policy=args.nan_policy, seed=args.seed)
    config.candidate_shifts()  # fail early on a malformed --shift
    benchmark = resolve_benchmark(args.benchmark)
    if args.time_bins:
        benchmark = benchmark.with_time_bins(args.time_bins)
    results = score_model(args.model, benchmark, area=args.area, config=config,
                          max_features=args.max_features, batch_size=args.batch_size,
                          device=device, progress=not args.quiet)
    table = format_table(results)
    print(table)
    out = Path(args.out)
    save_results(results, out / "results.nc")
    save_figure(results, out / "figure.png")
    with atomic_path(out / "table.txt") as tmp:
        tmp.write_text(table + "\n")
    print(f"wrote {out / 'results.nc'}, {out / 'figure.png'} and {out / 'table.txt'}")
    return 0
