"""Statistics comparing scores on real and control data.

Pairs are (split, neuroid) cells of the per-neuroid test correlations, as in the CordsNet
paper's paired t-test; note that splits share training stimuli, so the pairs are not fully
independent and p-values are optimistic. The effect size is Cohen's d_z = mean(diff)/sd(diff).
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def paired_test(real: np.ndarray, control: np.ndarray) -> dict[str, float]:
    """Two-sided paired t-test of ``real`` vs ``control`` (same shape, NaN pairs dropped)."""
    a, b = np.ravel(real), np.ravel(control)
    keep = np.isfinite(a) & np.isfinite(b)
    diff = a[keep] - b[keep]
    if len(diff) < 2 or np.ptp(diff) == 0:  # no pairs, or no variance: the test is undefined
        mean = float(diff.mean()) if len(diff) else np.nan
        return {"t": np.nan, "p": np.nan, "d": np.nan, "mean_difference": mean}
    t, p = stats.ttest_rel(a[keep], b[keep])
    return {"t": float(t), "p": float(p), "d": float(diff.mean() / diff.std(ddof=1)),
            "mean_difference": float(diff.mean())}


def per_bin_tests(real: np.ndarray, control: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`paired_test` in every time bin of (split, neuroid, time_bin) arrays."""
    rows = [paired_test(real[..., t], control[..., t]) for t in range(real.shape[-1])]
    return {k: np.array([row[k] for row in rows]) for k in rows[0]}


def permutation_p(observed: float, null: np.ndarray) -> float:
    """One-sided permutation p-value ``(1 + #(null >= observed)) / (1 + n)``."""
    null = np.asarray(null)[np.isfinite(null)]
    return float((1 + np.sum(null >= observed)) / (1 + len(null)))
