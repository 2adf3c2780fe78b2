"""Temporal alignment of model time to neural time.

A neural bin ``(a, b]`` (ms after image onset) is compared with the model bin
``(a - shift, b - shift]``: a positive shift says the neurons respond ``shift`` ms later than
the model. The shift is either given, or chosen for each cross-validation split from that
split's training stimuli only (inner K-fold), so the test stimuli never influence it.
When the inner-CV curve is flat within one standard error of its best value the shift is
reported as not identified (:func:`shift_curve`).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import ScheduleError
from .crossval import CrossValidatedMapping
from .splits import inner_folds


def parse_shifts(spec) -> list[float]:
    """Candidate shifts in ms from ``"0:100:10"`` (start:stop:step, stop included), a number or a list."""
    if isinstance(spec, str):
        parts = spec.split(":")
        try:
            if len(parts) == 3:
                start, stop, step = (float(p) for p in parts)
                if step <= 0 or stop < start:
                    raise ValueError
                return [float(v) for v in np.arange(start, stop + step / 2, step)]
            return [float(v) for v in spec.split(",")]
        except ValueError:
            raise ScheduleError(
                f"cannot read shifts {spec!r}; write 'start:stop:step' in ms (e.g. '0:100:10') "
                "or a comma-separated list"
            ) from None
    if np.ndim(spec) == 0:
        return [float(spec)]
    return [float(v) for v in spec]


def model_bins(bins, shifts) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Model bins needed for every (shift, neural bin), and their index array (shift, time_bin)."""
    pairs = sorted({(a - s, b - s) for s in shifts for a, b in bins})
    where = {p: i for i, p in enumerate(pairs)}
    index = np.array([[where[(a - s, b - s)] for a, b in bins] for s in shifts], dtype=int)
    return pairs, index


def choose_shifts(mapping: CrossValidatedMapping, target: np.ndarray, index: np.ndarray,
                  strata=None, n_folds: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Best shift index per outer split, and the inner scores (split, fold, shift) behind it.

    A shift's inner score in one fold is the mean over time bins of the median-over-neuroids
    r, computed on the outer split's training stimuli only; a split chooses the shift with the
    best mean over its folds.
    """
    folds = [inner_folds(train, strata, n_folds, random_state=seed) for train in mapping.splits.train]
    cells = np.empty((len(mapping.splits), n_folds, len(index)))
    for j, row in enumerate(index):
        r = mapping.inner_correlations(target, row, folds)  # (split, fold, neuroid, bin)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cells[:, :, j] = np.nanmean(np.nanmedian(r, axis=2), axis=-1)
    curves = np.nanmean(cells, axis=1)
    filled = np.where(np.isnan(curves), -np.inf, curves)
    return filled.argmax(axis=1), cells


def shift_curve(cells: np.ndarray, n_folds: int) -> dict:
    """The inner-CV curve over candidate shifts, its standard error and the one-SE decision.

    ``cells`` (split, fold, shift) are inner-fold scores. The curve is their mean; its standard
    error is the Nadeau-Bengio corrected one for overlapping resamples,
    ``sd * sqrt(1/n_cells + n_test/n_train)`` with ``n_test/n_train = 1/(n_folds - 1)``.
    The shifts within one SE of the best form ``within``; the shift is *identified* only when
    some candidate falls more than one SE below the best (the curve is not flat).
    """
    flat = cells.reshape(-1, cells.shape[-1])
    curve = np.nanmean(flat, axis=0)
    n = np.isfinite(flat).sum(0)
    se = np.nanstd(flat, axis=0, ddof=1) * np.sqrt(1 / n + 1 / (n_folds - 1))
    best = int(np.nanargmax(curve))
    within = curve >= curve[best] - se[best]
    return {"curve": curve, "se": se, "best": best, "within": within,
            "identified": bool((~within).any())}
