"""``neurovision demo --out DIR``: score a pretrained model on real macaque V4, offline.

Loads the registered model (a CordsNet-R2 trained on CIFAR-10 natural images by default),
shows it the 640 natural images of Cowley et al. 2023 (shipped with the ``cowley2023.V4``
benchmark plugin) for 100 ms each, records its last area over time, chooses the model-to-neuron
latency on training stimuli, maps the activity to 50 V4 neurons with Brain-Score's
cross-validated PLS, and compares with an image-shuffled control and a permutation null. The
table is printed; ``DIR/results.nc``, ``DIR/figure.png`` and ``DIR/table.txt`` are written.
"""
from __future__ import annotations

import sys
import time

BENCHMARK = "cowley2023.V4"


def main(argv=None) -> int:
    """``neurovision demo ARGS`` (the command line's ``demo`` verb)."""
    from .cli.main import main as cli

    return cli(["demo", *(sys.argv[1:] if argv is None else argv)])


def run(args) -> int:
    """The demo for parsed options (see ``neurovision demo --help``)."""
    import torch

    from .brain.figure import save_figure
    from .brain.results import format_table, save_results
    from .brain.scoring import ScoreConfig, score_model
    from .io import atomic_path
    from .registry import load_model
    from .seeding import seed_everything

    torch.set_num_threads(args.threads)
    seed_everything(0)
    start = time.perf_counter()
    model = load_model(args.model)
    area = args.area or model.areas[-1]
    config = ScoreConfig(shifts=args.shifts, controls=("image",), n_permutations=args.permutations)
    print(f"scoring {args.model} ({area}) on {BENCHMARK}: 640 images x 50 V4 neurons, "
          f"latencies {args.shifts} ms, {args.permutations} permutations")
    results = score_model(model, BENCHMARK, area=area, config=config, progress=not args.quiet)
    results.attrs["model"] = args.model
    table = format_table(results)
    print(table)
    save_results(results, args.out / "results.nc")
    save_figure(results, args.out / "figure.png")
    with atomic_path(args.out / "table.txt") as tmp:
        tmp.write_text(table + "\n")
    print(f"wrote {args.out}/results.nc, figure.png, table.txt in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
