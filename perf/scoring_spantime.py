"""Span-time PLS scoring: neurovision's moment-based mapping against brainscore-vision's spantime_pls.

Both score the same synthetic MajajHong2015-sized assembly (default 3,200 images of 64
objects x 1,000 model features x 29 bins of 10 ms x 88 neuroids, V4; ``--neuroids 168`` for
IT) with the same 10 stratified splits: brainscore-vision's ``spantime_pls`` metric
(scikit-learn PLS on all bins stacked, per-neuroid correlations in Python; joblib's threading
backend so its memory is measured in this process) and
:class:`neurovision.brain.crossval.CrossValidatedMapping`. Measured in one run:

* ``floor_ratio``: ours over the **arithmetic floor**, the time to form ``X'X`` and ``X'Y`` once
  (float64, from the float32 source, in cache-sized blocks, with the same BLAS: scipy's
  ``dsyrk`` + ``dgemm``, or one ``dsyrk`` of ``[X | Y]``, whichever is faster in that repeat),
  interleaved with ours over ``--repeats``;
* ``perbin_over_spantime``: the per-bin mode's time over the span-time mode's, interleaved;
* ``spantime_vs_brainscore_speedup``: brainscore's time over ours (``--reference-repeats``,
  default 1: its fit takes many minutes);
* the threads of every loaded BLAS library, checked after the timed runs (a library loaded
  inside the thread limit would escape it) and recorded as ``config.blas_threads``;
* peak memory of each (RSS growth), the largest difference of the per-bin scores and of the
  per-neuroid r, and how the PLS power iterations ended (``pls_*``, see
  :class:`neurovision.brain.linear.PowerStats`).

``--profile`` then runs each mode once more under cProfile and writes where its time goes
(``scoring_spantime[_<N>n]_profile``: cumulative seconds and share of each stage, beside the
floor measured in the same process).

``python -m perf.scoring_spantime [--images 3200] [--features 1000] [--bins 29] [--neuroids 88]
[--repeats 3] [--reference-repeats 1] [--threads 1] [--profile] [--quick]`` (results
``scoring_spantime[_<N>n][_<T>threads]``, ``..._floor`` without the reference); numpy only, so the
figures are CPU figures whatever ``--device`` says. With ``--threads`` above one, span-time and the
floor use that many BLAS threads and the per-bin mode's batches run side by side on as many
workers (:func:`neurovision.brain.ridge_fit.side_by_side_fits`).
"""
from __future__ import annotations

import time

import joblib
import numpy as np

from ._harness import (PeakMemory, Stats, check_blas_threads, nonnegative_int, parser, positive_int, profile_summary,
                       result_name, setup, write_result)

#: profiled stages of each mode: stage -> functions whose cumulative time it is
PROFILE_STAGES = {
    "spantime": {"moments": ("_set_moments",), "pls_fits": ("pls_fit",), "predictions": ("_x_scores",),
                 "correlations": ("projected_r",)},
    "perbin": {"bin_moments": ("_bin_moments",), "pls_fits": ("pls_fit",), "power_iterations": ("_iterate",),
               "c_products": ("apply_c",), "s_passes": ("_deflated",), "predictions": ("_predict",),
               "correlations": ("pearson_columns",)},
}


def measured(run) -> tuple[float, float]:
    """Wall time (s) and peak memory above the starting level (MiB) of one call of ``run``."""
    with PeakMemory() as memory:
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
    return seconds, memory.peak_mib


def synthetic(images: int, features: int, bins: int, neuroids: int, seed: int = 0):
    """Source (image, bin, feature) float32 and target (image, bin, neuroid) with shared structure."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(images, bins, 20)).cumsum(axis=1) / np.sqrt(np.arange(1, bins + 1))[None, :, None]
    source = (latent @ rng.normal(size=(20, features)) + rng.normal(size=(images, bins, features))).astype(np.float32)
    target = latent[..., :12] @ rng.normal(size=(12, neuroids)) + 2.0 * rng.normal(size=(images, bins, neuroids))
    objects = np.repeat([f"object{i:02d}" for i in range(64)], -(-images // 64))[:images]
    ids = np.array([f"{i:040x}" for i in rng.permutation(images)])
    return source, target.astype(np.float32), objects, ids


def assembly(values, ids, objects, prefix):
    """brainio NeuroidAssembly (presentation, neuroid, time_bin) of (image, bin, unit) values."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

    n, bins = values.shape[2], values.shape[1]
    return NeuroidAssembly(np.transpose(values, (0, 2, 1)), dims=["presentation", "neuroid", "time_bin"], coords={
        "stimulus_id": ("presentation", ids), "object_name": ("presentation", objects),
        "neuroid_id": ("neuroid", [f"{prefix}{i:04d}" for i in range(n)]), "region": ("neuroid", ["V4"] * n),
        "time_bin_start": ("time_bin", np.arange(bins) * 10), "time_bin_end": ("time_bin", np.arange(bins) * 10 + 10)})


def floor(source: np.ndarray, target: np.ndarray, block: int = 4096) -> float:
    """Seconds to form X'X and X'Y once (float64, same BLAS), the faster of two layouts."""
    from scipy.linalg.blas import dgemm, dsyrk

    F, N = source.shape[2], target.shape[2]
    X32, Y = source.reshape(-1, F), target.reshape(-1, N)
    times = []
    for joint in (False, True):
        start = time.perf_counter()
        width = F + N if joint else F
        C, S, Z = np.zeros((width, width), order="F"), np.zeros((F, N), order="F"), np.empty((block, width))
        for first in range(0, len(X32), block):
            rows = min(block, len(X32) - first)
            np.copyto(Z[:rows, :F], X32[first:first + rows])
            if joint:
                Z[:rows, F:] = Y[first:first + rows]
            dsyrk(1.0, Z[:rows].T, beta=1.0, c=C, trans=0, lower=0, overwrite_c=1)
            if not joint:
                S = dgemm(1.0, Z[:rows].T, np.asfortranarray(Y[first:first + rows]), beta=1.0, c=S,
                          trans_a=0, overwrite_c=1)
        times.append(time.perf_counter() - start)
    return min(times)


def profiled(run, stages: dict, folder: str) -> dict:
    """One call of ``run`` under cProfile: its wall time and each stage's seconds and share."""
    import cProfile
    import os

    path = os.path.join(folder, "run.prof")
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(run)
    wall = time.perf_counter() - start
    profiler.dump_stats(path)
    return profile_summary(path, stages, wall)


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--images", type=positive_int, default=3200)
    p.add_argument("--features", type=positive_int, default=1000)
    p.add_argument("--bins", type=positive_int, default=29)
    p.add_argument("--neuroids", type=positive_int, default=88)
    p.add_argument("--reference-repeats", type=nonnegative_int, default=1,
                   help="brainscore-vision runs (0: no reference comparison)")
    p.add_argument("--profile", action="store_true", help="also profile each mode once (..._profile result)")
    p.set_defaults(repeats=3, threads=1)
    args = p.parse_args(argv)
    if args.profile and args.threads != 1:
        p.error("--profile sees only the calling thread's work, so it needs --threads 1 "
                "(side-by-side per-bin fits would run on other threads)")
    setup(args)
    images, features, bins, neuroids = (640, 100, 5, 20) if args.quick else (
        args.images, args.features, args.bins, args.neuroids)
    from threadpoolctl import threadpool_limits

    from neurovision.brain.crossval import CrossValidatedMapping, aggregate
    from neurovision.brain.linear import PowerStats
    from neurovision.brain.splits import brainscore_splits

    source, target, objects, ids = synthetic(images, features, bins, neuroids)
    out, stats = {}, PowerStats()

    def mapping(mode):
        def run():
            m = CrossValidatedMapping(source, brainscore_splits(images, objects), mode=mode)
            out[mode] = m.correlations(target, range(bins))
            stats.add(m.power_stats)
        return run

    def theirs():
        from brainscore_vision import load_metric

        source_asm, target_asm = assembly(source, ids, objects, "m"), assembly(target, ids, objects, "n")
        metric = load_metric("spantime_pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
        with joblib.parallel_config(backend="threading"):
            out["theirs"] = metric(source_asm, target_asm)

    with threadpool_limits(args.threads):
        rows = []
        for _ in range(args.repeats):
            ours_s, ours_mib = measured(mapping("spantime"))
            floor_s = floor(source, target)
            perbin_s, perbin_mib = measured(mapping("perbin"))
            rows.append((ours_s, ours_mib, floor_s, perbin_s, perbin_mib))
        blas = check_blas_threads(args.threads)  # ours and the floor ran on the threads asked for
        power = stats.summary()  # of the timed runs only
        if args.profile:
            import tempfile

            with tempfile.TemporaryDirectory() as folder:
                profile = {mode: profiled(mapping(mode), PROFILE_STAGES[mode], folder) for mode in PROFILE_STAGES}
            profile["floor_seconds"] = floor(source, target)
        reference = [measured(theirs) for _ in range(args.reference_repeats)]
    ours_s, ours_mib, floor_s, perbin_s, perbin_mib = (np.array(c) for c in zip(*rows))
    metrics = {
        "floor_ratio": Stats.of(ours_s / floor_s, "x"),
        "ours_seconds": Stats.of(ours_s, "s"),
        "floor_seconds": Stats.of(floor_s, "s"),
        "ours_peak_mib": float(ours_mib.max()),
        "perbin_over_spantime": Stats.of(perbin_s / ours_s, "x"),
        "perbin_seconds": Stats.of(perbin_s, "s"),
        "perbin_peak_mib": float(perbin_mib.max()),
        "mean_score": float(np.mean(aggregate(out["spantime"]))),
        **power,
    }
    if reference:
        ref_s = np.array([r[0] for r in reference])
        raw = out["theirs"].raw.transpose("split", "neuroid", "time_bin")
        order = np.argsort(raw["neuroid_id"].values).argsort()
        metrics.update({
            "spantime_vs_brainscore_speedup": Stats.of(ref_s / np.median(ours_s), "x"),
            "brainscore_seconds": Stats.of(ref_s, "s"),
            "brainscore_peak_mib": max(r[1] for r in reference),
            "max_abs_score_difference": float(np.abs(aggregate(out["spantime"]) - out["theirs"].values).max()),
            "max_abs_neuroid_r_difference": float(np.nanmax(np.abs(out["spantime"][:, order] - raw.values))),
        })
    size = "scoring_spantime" + ("" if neuroids == 88 or args.quick else f"_{neuroids}n")
    config = {"images": images, "features": features, "bins": bins, "neuroids": neuroids,
              "splits": 10, "pls_components": 25, "threads": args.threads, "blas_threads": blas,
              "reference_repeats": args.reference_repeats}
    if args.profile:
        write_result(result_name(size + "_profile", args), profile, repeats=1, config=config,
                     notes="one run of each mode under cProfile (wall inflated by the profiler); stage seconds are "
                           "cumulative, so pls_fits contains the per-bin power iterations, C products and S passes")
    name = result_name(size + ("" if args.threads == 1 else f"_{args.threads}threads") + ("" if reference else "_floor"), args)
    write_result(name, metrics, repeats=args.repeats,
                 config=config,
                 notes="floor = X'X and X'Y formed once (float64, same BLAS); ours and the floor and the per-bin "
                       "mode interleaved per repeat; brainscore-vision spantime_pls (joblib threading backend) on "
                       "identical data and splits, speedup = its time / our median time; CPU (numpy) figures")


if __name__ == "__main__":
    main()
