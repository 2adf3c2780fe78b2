"""Compare two scoring results on the same benchmark and splits: is model A better than B?

The difference of the per-split scores (median over neuroids of the test r, per bin and
averaged over bins) is tested with the corrected resampled t-test of Nadeau & Bengio (2003),
which inflates the variance of the mean over J overlapping splits by
``(1/J + n_test/n_train)``; per-bin p-values are Holm-adjusted. Both results must come from
the same stimuli, neuroids, bins and splits (checked from their ``test_stimulus``).
"""
from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from ..errors import DataError
from .stats import corrected_resampled_t, holm


def _one_region(results: xr.Dataset, region) -> xr.Dataset:
    if "region" not in results.dims:
        return results
    if region is None:
        if results.sizes["region"] != 1:
            raise DataError(f"results hold regions {list(results['region'].values)}; pass region=")
        return results.isel(region=0)
    return results.sel(region=region)


def _check_same(a: xr.Dataset, b: xr.Dataset) -> None:
    for ds, name in ((a, "results_a"), (b, "results_b")):
        if "test_stimulus" not in ds or "r" not in ds:
            raise DataError(f"{name} has no per-split test stimuli; score it again with this version "
                            "to compare it")
    checks = {
        "benchmark": a.attrs.get("benchmark") == b.attrs.get("benchmark"),
        "stimuli": a.attrs.get("n_stimuli") == b.attrs.get("n_stimuli"),
        "splits (test stimuli)": a["test_stimulus"].shape == b["test_stimulus"].shape
        and np.array_equal(a["test_stimulus"].values, b["test_stimulus"].values),
        "neuroids": np.array_equal(a["neuroid_id"].values, b["neuroid_id"].values),
        "time bins": np.array_equal(a["time_bin_start"].values, b["time_bin_start"].values)
        and np.array_equal(a["time_bin_end"].values, b["time_bin_end"].values),
    }
    differ = [k for k, same in checks.items() if not same]
    if differ:
        raise DataError(f"the two results differ in {', '.join(differ)}; compare models scored on the "
                        "same benchmark with the same splits and seed (e.g. the same ScoreConfig)")
    if a.sizes["split"] < 3:
        raise DataError(f"comparing needs >= 3 splits, the results have {a.sizes['split']}; "
                        "score with n_splits >= 3 (10 by default)")


def compare(results_a: xr.Dataset, results_b: xr.Dataset, level: float = 0.05,
            region=None) -> xr.Dataset:
    """Difference ``A - B`` of the scores, per time bin and overall, with ``1 - level`` CIs and p.

    Returns a Dataset over ``time_bin``: ``difference``, ``ci_low``, ``ci_high``, ``p_value``
    (two-sided), ``p_value_holm``; attributes ``overall_difference``, ``overall_ci_low``,
    ``overall_ci_high``, ``overall_p_value`` and ``verdict`` (``"A better"``, ``"B better"``
    or ``"no difference"`` at ``level``, from the overall test).
    """
    a, b = _one_region(results_a, region), _one_region(results_b, region)
    _check_same(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_split = np.nanmedian(a["r"].values, axis=1) - np.nanmedian(b["r"].values, axis=1)  # (split, bin)
    n_test = a.sizes["test_slot"]
    n_train = int(a.attrs.get("n_train", a.attrs["n_stimuli"] - n_test))
    bins = corrected_resampled_t(per_split, n_train, n_test, level)
    overall = corrected_resampled_t(np.nanmean(per_split, axis=1), n_train, n_test, level)
    p = float(overall["p"])
    verdict = "no difference" if p > level else ("A better" if overall["mean"] > 0 else "B better")
    return xr.Dataset(
        {"difference": ("time_bin", bins["mean"]), "ci_low": ("time_bin", bins["low"]),
         "ci_high": ("time_bin", bins["high"]), "p_value": ("time_bin", bins["p"]),
         "p_value_holm": ("time_bin", holm(bins["p"]))},
        coords={"time_bin_start": ("time_bin", a["time_bin_start"].values),
                "time_bin_end": ("time_bin", a["time_bin_end"].values)},
        attrs={"model_a": str(a.attrs.get("model", "A")), "model_b": str(b.attrs.get("model", "B")),
               "benchmark": str(a.attrs.get("benchmark", "")), "level": float(level),
               "overall_difference": float(overall["mean"]), "overall_ci_low": float(overall["low"]),
               "overall_ci_high": float(overall["high"]), "overall_p_value": p, "verdict": verdict,
               "test": "corrected resampled t (Nadeau & Bengio 2003) over splits; Holm over bins"})


def format_comparison(comparison: xr.Dataset) -> str:
    """Plain-text table of :func:`compare`: one row per bin, then the overall verdict."""
    c = comparison
    ci = f"{int(round(100 * (1 - c.attrs['level'])))} % CI"
    lines = [f"{c.attrs['model_a']} (A) vs {c.attrs['model_b']} (B) on {c.attrs['benchmark']}",
             f"{'bin (ms)':>12} {'A - B':>8} {ci:>19} {'p':>9} {'p (Holm)':>9}"]
    for t in range(c.sizes["time_bin"]):
        lines.append(f"{c.time_bin_start.values[t]:5.0f}-{c.time_bin_end.values[t]:<5.0f} "
                     f"{float(c.difference[t]):9.3f} [{float(c.ci_low[t]):7.3f}, {float(c.ci_high[t]):7.3f}] "
                     f"{float(c.p_value[t]):9.3g} {float(c.p_value_holm[t]):9.3g}")
    lines.append(f"{'mean':>12} {c.attrs['overall_difference']:8.3f} [{c.attrs['overall_ci_low']:7.3f}, "
                 f"{c.attrs['overall_ci_high']:7.3f}] {c.attrs['overall_p_value']:9.3g}   -> {c.attrs['verdict']}")
    return "\n".join(lines)
