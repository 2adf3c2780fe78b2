"""Cross-validation splits over stimuli, the way Brain-Score draws them.

Brain-Score's neural benchmarks use 10 stratified shuffle splits (90 % train / 10 % test,
``random_state=1``) over the ``stimulus_id`` of the *neural* assembly, stratified by
``object_name``; without a stratification coordinate it uses plain shuffle splits. The splits
here are drawn with the same scikit-learn splitters and arguments, so the same assembly gives
the same train/test stimuli.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

from ..errors import DataError


@dataclass(frozen=True)
class Splits:
    """Train/test index arrays into a presentation axis: ``train[k]``, ``test[k]`` of split k."""

    train: tuple[np.ndarray, ...]
    test: tuple[np.ndarray, ...]

    def __len__(self) -> int:
        return len(self.train)

    def __iter__(self):
        return iter(zip(self.train, self.test))


def _check_strata(strata: np.ndarray, n_test: int, n_splits: int) -> None:
    values, counts = np.unique(strata, return_counts=True)
    if counts.min() < 2:
        rare = values[counts < 2][:5].tolist()
        raise DataError(
            f"stratified splits need at least 2 presentations of every stratum; {rare} have 1. "
            "Drop those stimuli or split without stratification (stratify=None)"
        )
    if n_test < len(values):
        raise DataError(
            f"a test set of {n_test} presentations cannot hold all {len(values)} strata; "
            f"use more presentations or a larger test fraction"
        )


def brainscore_splits(
    n_presentations: int,
    strata=None,
    n_splits: int = 10,
    train_size: float = 0.9,
    random_state: int = 1,
) -> Splits:
    """Brain-Score's shuffle splits over ``n_presentations`` stimuli (in assembly order).

    ``strata``: one label per presentation (e.g. ``object_name``) or None for unstratified
    splits. Raises :class:`DataError` when there are too few presentations for the splits.
    """
    if not (0 < train_size < 1) or n_splits < 1:
        raise DataError(f"need 0 < train_size < 1 and n_splits >= 1, got {train_size}, {n_splits}")
    n_test = n_presentations - int(np.floor(train_size * n_presentations))
    if n_test < 2 or n_presentations - n_test < 3:
        raise DataError(
            f"{n_presentations} presentations are too few for splits of {train_size:.0%} train: "
            "each split needs >= 3 train and >= 2 test stimuli; use more stimuli"
        )
    dummy = np.zeros(n_presentations)
    if strata is None:
        splitter = ShuffleSplit(n_splits=n_splits, train_size=train_size, random_state=random_state)
        pairs = list(splitter.split(dummy))
    else:
        strata = np.asarray(strata)
        if len(strata) != n_presentations:
            raise DataError(f"{len(strata)} strata labels for {n_presentations} presentations")
        _check_strata(strata, n_test, n_splits)
        splitter = StratifiedShuffleSplit(
            n_splits=n_splits, train_size=train_size, test_size=None, random_state=random_state
        )
        pairs = list(splitter.split(dummy, strata))
    return Splits(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))


def inner_folds(train: np.ndarray, strata=None, n_folds: int = 3, random_state: int = 0) -> Splits:
    """Disjoint K-fold splits *within* a training set (indices into the full presentation axis).

    Used to choose hyper-parameters (temporal shift, area) from training stimuli only.
    """
    train = np.asarray(train)
    if len(train) < 2 * n_folds:
        raise DataError(f"{len(train)} training stimuli are too few for {n_folds} inner folds")
    dummy = np.zeros(len(train))
    if strata is not None:
        labels = np.asarray(strata)[train]
        if np.unique(labels, return_counts=True)[1].min() >= n_folds:
            folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state).split(dummy, labels)
        else:
            folds = KFold(n_folds, shuffle=True, random_state=random_state).split(dummy)
    else:
        folds = KFold(n_folds, shuffle=True, random_state=random_state).split(dummy)
    pairs = [(train[a], train[b]) for a, b in folds]
    return Splits(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))
