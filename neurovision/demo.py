"""``python -m neurovision.demo --out DIR``: score a pretrained model on real macaque V4, offline.

Loads the registered model (a CordsNet-R2 trained on CIFAR-10 natural images by default),
shows it the 640 natural images of Cowley et al. 2023 (shipped with the ``cowley2023.V4``
benchmark plugin) for 100 ms each, records its last area over time, chooses the model-to-neuron
latency on training stimuli, maps the activity to 50 V4 neurons with Brain-Score's
cross-validated PLS, and compares with an image-shuffled control and a permutation null. The
table is printed; ``DIR/results.nc``, ``DIR/figure.png`` and ``DIR/table.txt`` are written.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

DEFAULT_MODEL = "cordsnet-r2-cifar10"
BENCHMARK = "cowley2023.V4"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m neurovision.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"registered model id (default {DEFAULT_MODEL})")
    parser.add_argument("--area", default=None, help="model area standing for V4 (default: the model's last area)")
    parser.add_argument("--shifts", default="0:60:20", help="candidate latencies in ms (default 0:60:20)")
    parser.add_argument("--permutations", type=int, default=50, help="permutation-null draws (default 50)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--quiet", action="store_true")
    return parser


def main(argv=None) -> int:
    from .brain.figure import save_figure
    from .brain.results import format_table, save_results
    from .brain.scoring import ScoreConfig, score_model
    from .errors import NeurovisionError
    from .io import atomic_path
    from .registry import load_model
    from .seeding import seed_everything

    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_everything(0)
    start = time.perf_counter()
    try:
        model = load_model(args.model)
        area = args.area or model.areas[-1]
        config = ScoreConfig(shifts=args.shifts, controls=("image",), n_permutations=args.permutations)
        print(f"scoring {args.model} ({area}) on {BENCHMARK}: 640 images x 50 V4 neurons, "
              f"latencies {args.shifts} ms, {args.permutations} permutations")
        results = score_model(model, BENCHMARK, area=area, config=config, progress=not args.quiet)
    except NeurovisionError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
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
