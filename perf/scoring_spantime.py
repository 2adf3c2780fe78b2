"""Span-time PLS scoring: neurovision's moment-based mapping against brainscore-vision's spantime_pls.

Both score the same synthetic MajajHong2015-V4-sized assembly (default 3,200 images of 64
objects x 1,000 model features x 29 bins of 10 ms x 88 neuroids) with the same 10 stratified
splits: brainscore-vision's ``spantime_pls`` metric (scikit-learn PLS on all bins stacked,
per-neuroid correlations in Python; joblib's threading backend so its memory is measured in
this process) and :class:`neurovision.brain.crossval.CrossValidatedMapping`. Reports the time
ratio (one interleaved pair per repeat; each run also gives its side's peak memory, so
brainscore's slow fit runs once per repeat), the largest difference of the per-bin scores and
of the per-neuroid r, and the cost of the per-bin mode.

``neurovision perf scoring_spantime [--images 3200] [--features 1000] [--bins 29] [--neuroids 88]
[--repeats 1] [--threads 2] [--quick]``
"""
from __future__ import annotations

import time

import joblib
import numpy as np

from ._harness import Comparison, PeakMemory, Stats, parser, result_name, setup, write_result


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


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=3200)
    p.add_argument("--features", type=int, default=1000)
    p.add_argument("--bins", type=int, default=29)
    p.add_argument("--neuroids", type=int, default=88)
    p.set_defaults(repeats=1, threads=2)
    args = p.parse_args(argv)
    setup(args)
    images, features, bins, neuroids = (640, 100, 5, 20) if args.quick else (
        args.images, args.features, args.bins, args.neuroids)

    from brainscore_vision import load_metric

    from neurovision.brain.crossval import CrossValidatedMapping, aggregate
    from neurovision.brain.splits import brainscore_splits

    source, target, objects, ids = synthetic(images, features, bins, neuroids)
    source_asm, target_asm = assembly(source, ids, objects, "m"), assembly(target, ids, objects, "n")
    out = {}

    def ours():
        splits = brainscore_splits(images, objects)
        out["ours"] = CrossValidatedMapping(source, splits).correlations(target, range(bins))

    def perbin():
        splits = brainscore_splits(images, objects)
        out["perbin"] = CrossValidatedMapping(source, splits, mode="perbin").correlations(target, range(bins))

    def theirs():
        metric = load_metric("spantime_pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
        with joblib.parallel_config(backend="threading"):
            out["theirs"] = metric(source_asm, target_asm)

    pairs = [(measured(ours), measured(theirs)) for _ in range(args.repeats)]
    perbin_seconds, perbin_mib = measured(perbin)
    timing = Comparison(Stats.of([o[0] for o, _ in pairs], "s"), Stats.of([t[0] for _, t in pairs], "s"),
                        Stats.of([t[0] / o[0] for o, t in pairs], "x"))
    raw = out["theirs"].raw.transpose("split", "neuroid", "time_bin")
    order = np.argsort(raw["neuroid_id"].values).argsort()
    metrics = {
        **timing.metrics("spantime_vs_brainscore"),
        "ours_peak_mib": max(o[1] for o, _ in pairs),
        "brainscore_peak_mib": max(t[1] for _, t in pairs),
        "max_abs_score_difference": float(np.abs(aggregate(out["ours"]) - out["theirs"].values).max()),
        "max_abs_neuroid_r_difference": float(np.nanmax(np.abs(out["ours"][:, order] - raw.values))),
        "perbin_seconds": perbin_seconds,
        "perbin_peak_mib": perbin_mib,
        "mean_score": float(np.mean(aggregate(out["ours"]))),
    }
    write_result(result_name("scoring_spantime", args), metrics, repeats=args.repeats,
                 config={"images": images, "features": features, "bins": bins, "neuroids": neuroids,
                         "splits": 10, "pls_components": 25, "threads": args.threads},
                 notes="brainscore-vision spantime_pls (joblib threading backend) vs neurovision "
                       "CrossValidatedMapping on identical data and splits; speedup = brainscore time / ours")


if __name__ == "__main__":
    main()
