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
    shuffles = max(args.permutations, 19)
    for benchmark_id in split_ids(args.benchmarks):
        if board.decoding_path(work, benchmark_id, shuffles).is_file():  # a decoding benchmark, finished
            rows += board.decoding_rows(benchmark_id, lambda: load_benchmark(benchmark_id), shuffles, work, models, settings)
            continue
        benchmark = load_benchmark(benchmark_id)
        if not isinstance(benchmark, TemporalBenchmark):
            rows += board.decoding_rows(benchmark_id, lambda b=benchmark: b, shuffles, work, models, settings)
            continue
        check_stimuli(benchmark, config)
        entries = board.entries(models, benchmark, config, args.untrained_seeds, baselines=baselines,
                                skipped=skipped, max_features=args.max_features, batch_size=args.batch_size,
                                device=device, progress=not args.quiet)
        key = {"settings": settings, "config": repr(config), "max_features": args.max_features}
        results, done = {}, []
        for group in board.groups(entries):  # the baselines, then each model with its untrained seeds
            results.update(board.compute(group, benchmark_id, work, key, score=not args.finished_only))
            if any(e.identifier not in results for e in group):
                continue
            done += group
            pending = [e.identifier for e in entries if e.kind == "trained" and e not in done]
            _write(out, rows + board.summarise(benchmark_id, done, results, settings)
                   + board.pending_rows(benchmark_id, pending, skipped, settings))
        pending = [e.identifier for e in entries if e.kind == "trained" and e not in done]
        rows += board.summarise(benchmark_id, done, results, settings) + board.pending_rows(
            benchmark_id, pending, skipped, settings)
        skipped.clear()
    table = _write(out, rows)
    print(table)
    print(f"wrote {out / 'scoreboard.csv'}, {out / 'scoreboard.md'} and {out / 'scoreboard.png'}")
    return 0


def _write(out: Path, rows: list[dict]) -> str:
    """CSV, Markdown and figure of ``rows`` (each written atomically); the Markdown table."""
    from ..families.baselines import scoreboard as board

    board.write_csv(rows, out / "scoreboard.csv")
    back = board.read_csv(out / "scoreboard.csv")
    table = board.markdown(back)
    board.write_text(table + "\n", out / "scoreboard.md")
    board.save_figure(back, out / "scoreboard.png")
    return table
