"""Temporal alignment of model time to neural time.

A neural bin ``(a, b]`` (ms after image onset) is compared with the model bin
``(a - shift, b - shift]``: a positive shift says the neurons respond ``shift`` ms later than
the model. The shift is either given, or chosen for each cross-validation split from that
split's training stimuli only (inner K-fold), so the test stimuli never influence it.
"""
from __future__ import annotations

import numpy as np

from ..errors import ScheduleError
from .crossval import CrossValidatedMapping, aggregate
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
    """Best shift index per outer split and the inner curves (split, shift) they came from.

    A shift's inner score is the mean over inner folds and time bins of the
    median-over-neuroids r, computed on the outer split's training stimuli only.
    """
    folds = [inner_folds(train, strata, n_folds, random_state=seed) for train in mapping.splits.train]
    curves = np.empty((len(mapping.splits), len(index)))
    for j, row in enumerate(index):
        r = mapping.inner_correlations(target, row, folds)  # (split, fold, neuroid, bin)
        for k in range(len(r)):
            curves[k, j] = np.nanmean(aggregate(r[k]))
    filled = np.where(np.isnan(curves), -np.inf, curves)
    return filled.argmax(axis=1), curves
