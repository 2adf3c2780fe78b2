"""``neurovision demo --out DIR``: score a pretrained model on real macaque V4, offline.

Loads the registered model (a CordsNet-R2 trained on CIFAR-10 natural images by default),
shows it the 640 natural images of Cowley et al. 2023 (shipped with the ``cowley2023.V4``
benchmark plugin) for 100 ms each, records its last area over time, chooses the model-to-neuron
latency on training stimuli, maps the activity to 50 V4 neurons with a cross-validated linear
mapping (ridge by default: all permutation draws share one factorisation per split), and
compares with an image-shuffled permutation null, the pixel and Gabor-V1 baselines and the
model's architecture untrained. The settings head the printed table; ``DIR/results.nc``,
``DIR/figure.png`` and ``DIR/table.txt`` (settings, score table and side-by-side table) are written. Baseline and
untrained activity is cached per benchmark (:mod:`neurovision.brain.activity_cache`).
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

BENCHMARK = "cowley2023.V4"
BASELINE_IDS = ("baseline-pixels", "baseline-gabor-v1")


def main(argv=None) -> int:
    """``neurovision demo ARGS`` (the command line's ``demo`` verb)."""
    from .cli.main import main as cli

    return cli(["demo", *(sys.argv[1:] if argv is None else argv)])


@contextmanager
def _phase(timings: dict | None, name: str):
    start = time.perf_counter()
    yield
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def settings_line(args, area: str) -> str:
    """The demo's scoring settings, printed above its tables."""
    return (f"settings: {args.model} ({area}) on {BENCHMARK}, 640 images x 50 V4 neurons; regression "
            f"{args.regression}; image-shuffled null {args.permutations} draws; candidate latencies "
            f"{args.shifts} ms; baselines {', '.join(BASELINE_IDS)}; untrained seeds {args.untrained_seeds}; "
            f"{args.threads} threads, batch {args.batch_size}")


def run(args, timings: dict | None = None) -> int:
    """The demo for parsed options (see ``neurovision demo --help``).

    ``timings`` (optional dict) receives the seconds of each phase: ``load``, ``model``
    (recording and fitting the trained model), ``baselines`` (both baselines and the untrained
    seeds, recorded or read from the cache, and fitted) and ``output``.
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        return _run(args, timings)


def _run(args, timings) -> int:
    from .brain.figure import save_figure
    from .brain.results import format_table, save_results
    from .brain.scoring import ScoreConfig, score_model
    from .families.baselines.side_by_side import default_area, format_side_by_side, side_by_side
    from .io import atomic_path
    from .registry import load_benchmark, load_model
    from .seeding import seed_everything

    seed_everything(0)
    start = time.perf_counter()
    with _phase(timings, "load"):
        model = load_model(args.model)
        benchmark = load_benchmark(BENCHMARK)
        area = args.area or default_area(model, benchmark.region)
    config = ScoreConfig(regression=args.regression, shifts=args.shifts, controls=("image",),
                         n_permutations=args.permutations)
    settings = settings_line(args, area)
    print(settings)
    common = {"batch_size": args.batch_size, "progress": not args.quiet}
    with _phase(timings, "model"):
        results = score_model(model, benchmark, area=area, config=config, **common)
    results.attrs["model"] = args.model
    with _phase(timings, "baselines"):
        table = side_by_side(args.model, benchmark, area, config, baselines=BASELINE_IDS,
                             n_seeds=args.untrained_seeds, model_results=results, **common)
    with _phase(timings, "output"):
        text = "\n".join([settings, format_table(results), "", format_side_by_side(table)])
        print(text)
        save_results(results, args.out / "results.nc")
        save_figure(results, args.out / "figure.png")
        with atomic_path(args.out / "table.txt") as tmp:
            tmp.write_text(text + "\n")
    print(f"wrote {args.out}/results.nc, figure.png, table.txt in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
