"""Error rates of the scoring's tests, measured on planted data sets with known truth.

Each scenario draws ``n`` small data sets with :func:`~neurovision.brain.synthetic.planted_arrays`
(60 stimuli x 8 features x 4 bins x 10 neuroids by default), scores them with
:func:`~neurovision.brain.scoring.score_arrays` and counts how often each test rejects at
``level``:

* ``null``: no relation between model and neurons; the true shift is unknown to the scorer
  (auto among 2 candidates). False-positive rates of the image permutation test (mean score),
  of "some bin significant" (max-statistic adjusted) and of the time-specificity test.
* ``stable``: a strong relation with selectivity stable over time (neural gains differ by
  bin): false-positive rate of the time-specificity test.
* ``modest``: a modest stable relation (signal 0.35): power of the image test.
* ``time_specific``: tuning that changes from bin to bin (70 % of the latent variance shared
  by all bins, 30 % specific to each): power of the time-specificity test.
* ``compare_null``: two equally good models (independent feature noise) on the same neurons:
  false-positive rate of :func:`~neurovision.brain.compare.compare`.
* ``compare_better``: a better model (feature noise 1.0) against a worse one (1.8): power.
* ``compare_trivial``: planted noise features against a real baseline: how often the trivial
  model is reported better (must stay below ``level``).

``python -m neurovision.brain.calibration --out FILE --regression ridge|pls [--workers 2]`` writes
the rates as JSON (one entry per regression and scenario; rerunning some scenarios keeps the
others). The data sets are independent: ``workers`` processes score them side by side, one BLAS
thread each, with the same rates as one process.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np

from ..io import atomic_path
from .compare import compare
from .scoring import ScoreConfig, score_arrays
from .synthetic import planted_arrays

BINS = [(float(t), t + 25.0) for t in range(0, 100, 25)]
GAINS = (0.5, 1.0, 1.5, 1.0)
PLANTED = {"null": dict(signal=0.0), "stable": dict(signal=1.0, gains=GAINS),
           "modest": dict(signal=0.35, gains=GAINS), "time_specific": dict(signal=1.0, shared=0.7)}


def _config(regression: str, n_permutations: int, shifts, level: float) -> ScoreConfig:
    return ScoreConfig(regression=regression, n_components=4, alpha=1.0, shifts=shifts,
                       shift="auto" if len(shifts) > 1 else shifts[0], n_permutations=n_permutations,
                       level=level)


def _score(data, config, lead_bins):
    index = np.array([np.arange(len(BINS)) + s for s in range(lead_bins + 1)])
    return score_arrays(data["source"], index, data["target"], BINS, config).isel(region=0)


def _tests(kind: str, seed: int, regression: str, n_permutations: int, level: float) -> dict:
    """Rejections (1/0) of every test of one scenario on the data set drawn with ``seed``."""
    if kind in PLANTED:
        planted = PLANTED[kind]
        data = planted_arrays(lead_bins=1, seed=seed, **planted)
        ds = _score(data, _config(regression, n_permutations, [0.0, 25.0], level), 1)
        return {"image_mean_score": ds.attrs["permutation_p_value"] <= level,
                "image_some_bin": bool(ds.attrs["any_bin_significant"]),
                "time_specificity": ds.attrs["time_specificity_p_value"] <= level}
    rng = np.random.default_rng(seed + 10**6)
    data = planted_arrays(signal=1.0, seed=seed)
    latent = data["latent"]
    other = {"compare_null": latent + rng.normal(size=latent.shape),
             "compare_better": latent + 1.8 * rng.normal(size=latent.shape),
             "compare_trivial": rng.normal(size=latent.shape)}[kind]
    config = _config(regression, 0, [0.0], level)
    if kind == "compare_trivial":
        a, b = _score({**data, "source": other}, config, 0), _score(data, config, 0)
    else:
        a, b = _score(data, config, 0), _score({**data, "source": other}, config, 0)
    c = compare(a, b, level)
    return {"reported_different": c.attrs["verdict"] != "no difference",
            "a_reported_better": c.attrs["verdict"] == "A better",
            "some_bin_different": bool(np.nanmin(c["p_value_holm"].values) <= level)}


SCENARIOS = (*PLANTED, "compare_null", "compare_better", "compare_trivial")


def measure(kind: str, n: int = 200, regression: str = "ridge", n_permutations: int = 39,
            level: float = 0.05, seed: int = 0, workers: int = 1) -> dict[str, float]:
    """Fraction of ``n`` planted data sets of scenario ``kind`` on which each test rejects; data
    set ``i`` is drawn with ``seed + i`` whichever of the ``workers`` processes scores it."""
    if kind not in SCENARIOS:
        raise ValueError(f"unknown scenario {kind!r}; choose from {SCENARIOS}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    one = partial(_tests, kind, regression=regression, n_permutations=n_permutations, level=level)
    seeds = range(seed, seed + n)
    if workers == 1:
        hits = [one(s) for s in seeds]
    else:
        with ProcessPoolExecutor(workers, initializer=_one_blas_thread) as pool:
            hits = list(pool.map(one, seeds, chunksize=max(1, n // (4 * workers))))
    return {k: float(np.mean([h[k] for h in hits])) for k in hits[0]}


def _one_blas_thread() -> None:
    """Worker start-up: one BLAS thread per process, so ``workers`` processes share the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--permutations", type=int, default=99)
    parser.add_argument("--regression", choices=["ridge", "pls"], default="ridge")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"any of {','.join(SCENARIOS)}")
    parser.add_argument("--workers", type=int, default=1, help="processes scoring data sets side by side")
    args = parser.parse_args(argv)
    out = json.loads(args.out.read_text()) if args.out.is_file() else {}
    summary = {"level": 0.05, "datasets_per_scenario": args.datasets, "permutations": args.permutations,
               "data": "60 stimuli x 8 features x 4 bins (25 ms) x 10 neuroids, 10 splits 90/10",
               "command": "python -m neurovision.brain.calibration " + " ".join(argv or sys.argv[1:]),
               "rates": dict(out.get(args.regression, {}).get("rates", {}))}
    for kind in args.scenarios.split(","):
        start = time.perf_counter()
        rates = measure(kind, args.datasets, args.regression, args.permutations, workers=args.workers)
        summary["rates"][kind] = {**rates, "permutations": args.permutations,
                                  "seconds": round(time.perf_counter() - start, 1)}
        print(args.regression, kind, summary["rates"][kind], flush=True)
    out[args.regression] = summary
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
