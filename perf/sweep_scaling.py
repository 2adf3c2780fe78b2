"""Sweep wall time on a local Dask cluster of 1 and then 2 workers (same jobs, empty caches).

Usage: ``python -m perf.sweep_scaling --out experiments/scaleout/sweep_scaling.json``. The
sweep scores leaky-linear on the shipped cowley2023.V4 under 4 seeds (4 independent jobs,
image-shuffled control, 10 splits) through ``neurovision sweep``; each worker count runs in a
fresh cache, and the merged results of the two runs are checked equal.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

SWEEP = ["sweep", "--models", "leaky-linear", "--benchmarks", "cowley2023.V4", "--seeds", "0,1,2,3",
         "--shift", "0", "--controls", "image", "--quiet"]


def timed(workers: int, folder: Path) -> tuple[float, xr.Dataset]:
    from neurovision.cli import main

    out = folder / f"w{workers}.nc"
    start = time.perf_counter()
    if main([*SWEEP, "--workers", str(workers), "--out", str(out)]) != 0:
        raise SystemExit(f"sweep with {workers} workers failed")
    return time.perf_counter() - start, xr.open_dataset(out).load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        one, first = timed(1, Path(tmp))
        two, second = timed(2, Path(tmp))
    difference = float(np.nanmax(np.abs(first.overall_score.values - second.overall_score.values)))
    summary = {"command": "neurovision " + " ".join(SWEEP) + " --workers N", "jobs": int(first.sizes["job"]),
               "wall_s": {"1": round(one, 2), "2": round(two, 2)}, "speedup_2_over_1": round(one / two, 3),
               "max_overall_score_difference": difference, "cpu_count": os.cpu_count(),
               "load_average_at_end": list(os.getloadavg())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
