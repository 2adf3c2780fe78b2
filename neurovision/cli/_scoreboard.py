"""``neurovision score --all``: the scoreboard of every trained front-end, baselines and untrained controls."""
from __future__ import annotations

from pathlib import Path

from ..errors import NeurovisionError


def settings_text(config, n_seeds: int, baselines) -> str:
    """One line stating the scoring settings (written into every CSV row)."""
    shift = f"shift auto among {config.shifts} ms" if config.shift == "auto" else f"shift {config.shift} ms"
    return (f"{config.regression} ({config.n_components} components) {config.mode}; {shift}; "
            f"{config.n_permutations} image permutations; {config.n_splits} splits {config.train_size:.0%} train; "
            f"{n_seeds} untrained seeds; baselines {'+'.join(baselines)}; compare: corrected resampled t")


def run_scoreboard(args) -> int:
    from ..brain.benchmark import TemporalBenchmark
    from ..families.baselines import scoreboard as board
    from ..families.baselines.side_by_side import check_baselines, check_stimuli
    from ..registry import load_benchmark
    from ..seeding import seed_everything
    from ._common import resolve_device
    from .score import score_config, split_ids

    seed_everything(args.seed)
    device = resolve_device(args.device)
    config = score_config(args)
    baselines = () if args.no_baselines else check_baselines(split_ids(args.baselines))
    models = split_ids(args.models) if args.models else board.trained_front_ends()
    if not models:
        raise NeurovisionError("no models to score: --models is empty and no trained front-end is registered")
    settings = settings_text(config, args.untrained_seeds, baselines)
    work, out = Path(args.work), Path(args.out)
    rows, skipped = [], {}
    for benchmark_id in split_ids(args.benchmarks):
        benchmark = load_benchmark(benchmark_id)
        if not isinstance(benchmark, TemporalBenchmark):
            rows += board.decoding_rows(benchmark, max(args.permutations, 19), work, models, settings)
            continue
        check_stimuli(benchmark, config)
        entries = board.entries(models, benchmark, config, args.untrained_seeds, baselines=baselines,
                                skipped=skipped, max_features=args.max_features, batch_size=args.batch_size,
                                device=device, progress=not args.quiet)
        results = board.compute(entries, benchmark_id, work,
                                {"settings": settings, "config": repr(config), "max_features": args.max_features})
        rows += board.summarise(benchmark_id, entries, results, settings)
        rows += [{"benchmark": benchmark_id, "model": m, "kind": "trained", "status": why, "settings": settings}
                 for m, why in skipped.items()]
        skipped.clear()
    board.write_csv(rows, out / "scoreboard.csv")
    table = board.markdown(board.read_csv(out / "scoreboard.csv"))
    board.write_text(table + "\n", out / "scoreboard.md")
    board.save_figure(board.read_csv(out / "scoreboard.csv"), out / "scoreboard.png")
    print(table)
    print(f"wrote {out / 'scoreboard.csv'}, {out / 'scoreboard.md'} and {out / 'scoreboard.png'}")
    return 0
