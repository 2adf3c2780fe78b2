"""Sweep wall time on a local Dask cluster of 1 and then 2 workers (same jobs, empty caches).

Usage: ``python -m perf.sweep_scaling --out experiments/scaleout/sweep_scaling.json``. The
sweep scores leaky-linear on the shipped cowley2023.V4 under 4 seeds (4 independent jobs,
image-shuffled control, 10 splits) through ``neurovision sweep``; each worker count runs in a
fresh cache, and the merged results of the two runs are checked equal. With ``--kind train``
(``--out experiments/scaleout/sweep_train_scaling.json``) the sweep trains 2 tasks x 2 back-ends
(4 jobs, 32 units, 100 steps) through ``neurovision sweep train-task`` and compares accuracies.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

SWEEP = ["sweep", "--models", "leaky-linear", "--benchmarks", "cowley2023.V4", "--seeds", "0,1,2,3",
         "--shift", "0", "--controls", "image", "--quiet"]
TRAIN = ["sweep", "train-task", "--tasks", "perceptual-decision-making,context-decision-making",
         "--backends", "full,low-rank:2", "--units", "32", "--train-steps", "100", "--batch-size", "16",
         "--eval-trials", "200", "--quiet"]
#: kind -> (command, output suffix, reader of the per-job numbers, name of their largest difference)
KINDS = {"score": (SWEEP, ".nc", lambda out: xr.open_dataset(out).load().overall_score.values,
                   "max_overall_score_difference"),
         "train": (TRAIN, "", lambda out: pd.read_csv(out / "accuracy.csv").accuracy.to_numpy(),
                   "max_accuracy_difference")}


def timed(kind: str, workers: int, folder: Path) -> tuple[float, np.ndarray]:
    from neurovision.cli import main

    command, suffix, read, _ = KINDS[kind]
    out = folder / f"w{workers}{suffix}"
    start = time.perf_counter()
    if main([*command, "--workers", str(workers), "--out", str(out)]) != 0:
        raise SystemExit(f"sweep with {workers} workers failed")
    return time.perf_counter() - start, read(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kind", choices=sorted(KINDS), default="score", help="scoring or training sweep")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    load_at_start = list(os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        one, first = timed(args.kind, 1, Path(tmp))
        two, second = timed(args.kind, 2, Path(tmp))
    command, _, _, difference_name = KINDS[args.kind]
    summary = {"command": "neurovision " + " ".join(command) + " --workers N", "jobs": len(first),
               "wall_s": {"1": round(one, 2), "2": round(two, 2)}, "speedup_2_over_1": round(one / two, 3),
               difference_name: float(np.nanmax(np.abs(first - second))), "cpu_count": os.cpu_count(),
               "load_average_at_start": load_at_start, "load_average_at_end": list(os.getloadavg())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
