"""Split-half internal consistency of repeated recordings, per time bin (the noise ceiling).

Follows Brain-Score's ``internal_consistency_temporal``: the distinct repetition labels are
split in halves by 10 shuffle splits (``train_size=0.5``, ``random_state=1``); each half is
averaged over its repetitions per stimulus, the halves are correlated per neuroid (Pearson r
across stimuli) and the r is corrected to full length with Spearman-Brown, ``2r / (1 + r)``;
the ceiling of a bin is the median over neuroids, averaged over splits.

Missing repetitions (NaN, e.g. images shown fewer times) are skipped when averaging; a stimulus
with no repetition in one half is left out of that split's correlation.
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import ShuffleSplit

from ..errors import DataError
from .crossval import aggregate
from .linear import pearson_columns


def spearman_brown(r, n: float = 2.0):
    """Reliability of a measure ``n`` times as long as one with reliability ``r``."""
    r = np.asarray(r, dtype=np.float64)
    return n * r / (1 + (n - 1) * r)


def _half_means(trials: np.ndarray, stimulus: np.ndarray, n_stimuli: int, keep: np.ndarray) -> np.ndarray:
    """NaN-aware mean over the kept trials of each stimulus: (n_stimuli, neuroid, time_bin)."""
    values = np.where(np.isnan(trials[keep]), 0.0, trials[keep])
    counts = (~np.isnan(trials[keep])).astype(np.float64)
    sums = np.zeros((n_stimuli,) + trials.shape[1:])
    n = np.zeros_like(sums)
    np.add.at(sums, stimulus[keep], values)
    np.add.at(n, stimulus[keep], counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / n


def split_half_consistency(
    trials: np.ndarray,
    stimulus: np.ndarray,
    repetition: np.ndarray,
    n_splits: int = 10,
    random_state: int = 1,
) -> np.ndarray:
    """Spearman-Brown corrected split-half r per split, neuroid and time bin.

    ``trials``: (trial, neuroid, time_bin) responses (NaN = missing); ``stimulus``: integer
    stimulus index of each trial; ``repetition``: repetition label of each trial.
    Returns (split, neuroid, time_bin); aggregate with :func:`ceiling_per_bin`.
    """
    trials = np.asarray(trials, dtype=np.float64)
    stimulus, repetition = np.asarray(stimulus), np.asarray(repetition)
    if trials.ndim != 3 or len(stimulus) != len(trials) or len(repetition) != len(trials):
        raise DataError(
            f"trials must be (trial, neuroid, time_bin) with one stimulus and repetition label "
            f"per trial; got {trials.shape}, {len(stimulus)} stimuli, {len(repetition)} repetitions"
        )
    labels = np.unique(repetition)
    if len(labels) < 2:
        raise DataError(
            "a split-half ceiling needs at least 2 repetitions per stimulus; "
            f"the data hold {len(labels)} repetition label(s)"
        )
    n_stimuli = int(stimulus.max()) + 1
    splitter = ShuffleSplit(n_splits=n_splits, train_size=0.5, random_state=random_state)
    out = []
    for first, second in splitter.split(np.zeros(len(labels))):
        halves = [_half_means(trials, stimulus, n_stimuli, np.isin(repetition, labels[h]))
                  for h in (first, second)]
        both = ~(np.isnan(halves[0]) | np.isnan(halves[1])).any(axis=(1, 2))
        if both.sum() < 3:
            raise DataError("fewer than 3 stimuli have repetitions in both halves of a split")
        a, b = (np.moveaxis(h[both], 0, -1) for h in halves)  # (neuroid, time_bin, stimulus)
        out.append(spearman_brown(pearson_columns(a[..., None], b[..., None])[..., 0]))
    return np.stack(out)


def ceiling_per_bin(consistency: np.ndarray) -> np.ndarray:
    """Median over neuroids, mean over splits of (split, neuroid, time_bin) consistencies."""
    return aggregate(consistency)
