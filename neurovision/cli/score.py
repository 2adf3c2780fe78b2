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
    parser.add_argument("model", nargs="?", help="registered model id (see `neurovision list models`); "
                                                  "left out with --all")
    parser.add_argument("benchmark", nargs="?", help="registered benchmark id, e.g. cowley2023.V4; left out with --all")
    add_out(parser, help="output folder (results.nc, figure.png, table.txt, side_by_side.txt; with --all "
                         "scoreboard.csv, scoreboard.md, scoreboard.png)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="score the model alone: no baselines, untrained controls or difference column")
    parser.add_argument("--baselines", default="baseline-pixels,baseline-gabor-v1",
                        help="comma-separated baseline ids scored beside the model")
    parser.add_argument("--untrained-seeds", type=non_negative_int, default=3,
                        help="untrained controls of the model (same architecture, random weights), seeds 0..N-1")
    parser.add_argument("--all", action="store_true",
                        help="the scoreboard: every registered trained front-end (or --models) with the "
                             "baselines and untrained controls on every --benchmarks entry")
    parser.add_argument("--models", default=None,
                        help="with --all: comma-separated model ids (default: every trained front-end)")
    parser.add_argument("--benchmarks", default="cowley2023.V4,zhangdesimone.IT",
                        help="with --all: comma-separated benchmark ids")
    parser.add_argument("--finished-only", action="store_true",
                        help="with --all: score nothing; write the table from the finished results, the rest "
                             "marked pending")
    parser.add_argument("--work", default="runs/scoreboard",
                        help="with --all: folder of finished per-model results; a rerun resumes from it")
    parser.add_argument("--time-bins", default=None,
                        help="neural time bins in ms after onset, start:stop:width (default: the benchmark's)")
    add_shift(parser)
    parser.add_argument("--shifts", default="0:100:10", help="candidate shifts for --shift auto (ms, start:stop:step)")
    parser.add_argument("--controls", default="temporal,image",
                        help="comma-separated controls: temporal, image, or 'none'")
    parser.add_argument("--permutations", type=non_negative_int, default=100,
                        help="draws of each null: image-shuffled (p per bin and for the mean) and bin "
                             "re-pairings (time-specificity p); 0 for none, else >= 19 (default 100)")
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


def score_config(args):
    """The :class:`ScoreConfig` of the parsed options (a malformed --shift fails here)."""
    from ..brain.scoring import ScoreConfig

    config = ScoreConfig(mode=args.mode, regression=args.regression, n_components=args.n_components,
                         alpha=args.alpha, shift=args.shift, shifts=args.shifts,
                         controls=parse_controls(args.controls), n_permutations=args.permutations,
                         nan_policy=args.nan_policy, seed=args.seed)
    config.candidate_shifts()
    return config


def run(args) -> int:
    if args.all:
        from ._scoreboard import run_scoreboard

        return run_scoreboard(args)
    if not args.model or not args.benchmark:
        raise NeurovisionError("score needs MODEL and BENCHMARK (e.g. `neurovision score cordsnet-r2-cifar10 "
                               "cowley2023.V4`), or --all for the scoreboard")
    from ..brain.figure import save_figure
    from ..brain.results import format_table, save_results
    from ..brain.scoring import resolve_benchmark, score_model
    from ..io import atomic_path
    from ..seeding import seed_everything

    seed_everything(args.seed)
    device = resolve_device(args.device)
    config = score_config(args)
    baselines = ()
    if not args.no_baselines:
        from ..families.baselines import image_benchmark
        from ..families.baselines.side_by_side import check_baselines, check_stimuli

        baselines = check_baselines(split_ids(args.baselines))
        check_stimuli(image_benchmark(args.benchmark), config)
    benchmark = resolve_benchmark(args.benchmark)
    if args.time_bins:
        benchmark = benchmark.with_time_bins(args.time_bins)
    score = score_model
    model = args.model
    if model.startswith("brainscore:"):  # a brainscore-vision model, asked through its BrainModel
        from ..brain.brainscore_models import score_brainscore_model
        from ..registry import load_model

        score, model = score_brainscore_model, load_model(model, max_features=args.max_features)
    area, scored = args.area, model
    if isinstance(model, str):  # a registered id; feed-forward networks get the baselines' time course
        from ..families.baselines.side_by_side import default_area
        from ..families.baselines.static import load_time_stepped

        scored = load_time_stepped(model)
        if baselines and area is None:  # rows must share stimuli: no held-out selection
            area = default_area(scored, benchmark.region)
    results = score(scored, benchmark, area=area, config=config,
                    max_features=args.max_features, batch_size=args.batch_size,
                    device=device, progress=not args.quiet)
    if isinstance(model, str):
        results.attrs["model"] = model
    from ..brain.annotations import table_with_notes

    table = table_with_notes(format_table(results), results)
    print(table)
    out = Path(args.out)
    save_results(results, out / "results.nc")
    save_figure(results, out / "figure.png")
    with atomic_path(out / "table.txt") as tmp:
        tmp.write_text(table + "\n")
    print(f"wrote {out / 'results.nc'}, {out / 'figure.png'} and {out / 'table.txt'}")
    if baselines and not isinstance(model, str):
        print("baselines skipped: the model is not a registered id, so it has no untrained counterpart")
    elif baselines:
        from ..families.baselines.side_by_side import format_side_by_side, side_by_side

        table = side_by_side(model, benchmark, results.attrs["area"], config, baselines=baselines,
                             n_seeds=args.untrained_seeds, model_results=results, max_features=args.max_features,
                             batch_size=args.batch_size, device=device, progress=not args.quiet)
        text = format_side_by_side(table)
        print(text)
        with atomic_path(out / "side_by_side.txt") as tmp:
            tmp.write_text(text + "\n")
        print(f"wrote {out / 'side_by_side.txt'}")
    return 0


def split_ids(text: str) -> tuple[str, ...]:
    """Comma-separated ids, blanks dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
