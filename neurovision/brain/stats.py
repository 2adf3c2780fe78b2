"""Calibrated tests for cross-validated scores.

* :func:`permutation_p`: Monte-Carlo p-value of an observed statistic among its null draws.
* :func:`max_statistic_p`: per-bin permutation p-values adjusted for multiplicity by the
  max-statistic method (Westfall & Young): each bin's statistic is standardised by its null
  mean and s.d., and compared with the largest standardised null statistic of every draw, so
  "some bin is significant" holds its family-wise error rate.
* :func:`holm`: Holm's step-down adjustment (valid under any dependence between tests).
* :func:`corrected_resampled_t`: the corrected resampled t-test of Nadeau & Bengio (2003) for
  scores from J train/test splits whose training sets overlap: the variance of the mean over
  splits is ``(1/J + n_test/n_train) * s^2`` instead of ``s^2 / J``.

Splits share most training stimuli, so a t-test over split x neuroid cells is not a test of
anything; none is offered. The error rates of these procedures on planted data are measured
by :mod:`neurovision.brain.calibration`.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import DataError


def min_draws(level: float = 0.05) -> int:
    """Fewest null draws for which a permutation p-value can reach ``level``."""
    return int(np.ceil(1 / level - 1 - 1e-9))


def check_draws(n: int, level: float = 0.05, what: str = "permutation draws") -> None:
    """DataError unless ``n`` is 0 (no test) or large enough for p <= ``level`` to be possible."""
    need = min_draws(level)
    if n and n < need:
        raise DataError(f"{n} {what} cannot give p <= {level:g} (the smallest p is 1/(n+1)); "
                        f"use >= {need}, or 0 for no test")


def permutation_p(observed: float, null: np.ndarray) -> float:
    """One-sided permutation p-value ``(1 + #(null >= observed)) / (1 + n)``."""
    null = np.asarray(null)[np.isfinite(null)]
    return float((1 + np.sum(null >= observed)) / (1 + len(null)))


def max_statistic_p(observed: np.ndarray, null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(unadjusted, adjusted)`` one-sided p per bin of ``observed`` (T,) against ``null`` (K, T).

    Adjusted p-values compare each bin's standardised statistic with the per-draw maximum
    over bins (family-wise error rate held over the bins). The mean and s.d. that standardise
    a bin are taken over the null draws *and* the observed value, so under the null all K + 1
    are exchangeable and the adjustment is exact however few the draws.
    """
    observed, null = np.asarray(observed, float), np.asarray(null, float)
    raw = np.array([permutation_p(o, null[:, t]) for t, o in enumerate(observed)])
    every = np.vstack([observed, null])
    mean, sd = np.nanmean(every, 0), np.nanstd(every, 0)
    sd = np.where(sd > 0, sd, np.inf)
    z = np.where(np.isfinite(every), (every - mean) / sd, -np.inf)
    peak = z[1:].max(axis=1)
    adjusted = (1 + (peak[:, None] >= z[0][None, :]).sum(0)) / (1 + len(null))
    return raw, np.maximum(adjusted, raw)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries ignored and kept NaN)."""
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    live = np.flatnonzero(np.isfinite(p))
    order = live[np.argsort(p[live])]
    m = len(order)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out


def corrected_resampled_t(differences: np.ndarray, n_train: int, n_test: int,
                          level: float = 0.05) -> dict[str, np.ndarray]:
    """Nadeau-Bengio corrected resampled t-test over the first axis (splits) of ``differences``.

    Returns ``mean``, ``se`` (corrected), ``t``, two-sided ``p`` and the ``1 - level``
    confidence interval ``low``/``high``, each with the trailing shape of ``differences``.
    """
    d = np.asarray(differences, float)
    J = d.shape[0]
    if J < 3:
        raise DataError(f"the corrected resampled t-test needs >= 3 splits, got {J}")
    mean = d.mean(0)
    se = np.sqrt((1 / J + n_test / n_train) * d.var(0, ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(se > 0, mean / np.where(se > 0, se, 1), np.where(mean == 0, 0.0, np.sign(mean) * np.inf))
    p = 2 * stats.t.sf(np.abs(t), J - 1)
    half = stats.t.ppf(1 - level / 2, J - 1) * se
    return {"mean": mean, "se": se, "t": t, "p": p, "low": mean - half, "high": mean + half}
