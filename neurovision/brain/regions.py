"""Which model area stands for which brain region.

The mapping is set by hand (``area=``), declared by the model (a ``region_areas`` dict
attribute, e.g. ``{"V4": "area3", "IT": "area4"}``), or chosen on held-out stimuli: a stratified
``fraction`` of the benchmark's stimuli is set aside, every candidate area is scored on it by
inner cross-validation, and the best area is then scored on the *other* stimuli only, so the
choice never sees the test data.
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit, ShuffleSplit

from ..errors import DataError, UnknownIdError
from .crossval import CrossValidatedMapping, aggregate
from .splits import inner_folds


def mapped_area(model, region: str, area: str | None = None) -> str | None:
    """The area given or declared for ``region``; None when it must be chosen."""
    if area is not None and area != "auto":
        model.check_area(area)
        return area
    declared = getattr(model, "region_areas", None) or {}
    if area is None and region in declared:
        return declared[region]
    return None


def selection_split(benchmark, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stimulus ids ``(selection, rest)``: a stratified ``fraction`` set aside to choose the area."""
    ids = benchmark.responses()["stimulus_id"].values
    if not 0 < fraction < 1:
        raise DataError(f"selection fraction must be in (0, 1), got {fraction}")
    strata = benchmark.strata()
    dummy = np.zeros(len(ids))
    if strata is not None:
        splitter = StratifiedShuffleSplit(1, test_size=fraction, random_state=seed)
        rest, chosen = next(splitter.split(dummy, strata))
    else:
        rest, chosen = next(ShuffleSplit(1, test_size=fraction, random_state=seed).split(dummy))
    return ids[np.sort(chosen)], ids[np.sort(rest)]


def select_area(recorder, benchmark, candidates, shifts, config, fraction: float = 0.25):
    """Best area on held-out stimuli: ``(area, {area: score}, rest_ids)``.

    An area's score is the best (over candidate shifts) inner-fold span of the
    median-over-neuroids r, averaged over bins.
    """
    from .scoring import neural_target, record_source

    candidates = list(candidates or recorder.model.areas)
    for area in candidates:
        if area not in recorder.model.areas:
            raise UnknownIdError("area", area, list(recorder.model.areas))
    chosen_ids, rest_ids = selection_split(benchmark, fraction, config.seed)
    held = benchmark.subset(chosen_ids)
    target, _ = neural_target(held.responses(), config.nan_policy)
    folds = inner_folds(np.arange(len(target)), held.strata(), config.inner_folds, random_state=config.seed)
    scores = {}
    for area in candidates:
        source, index, _ = record_source(recorder, held, area, shifts)
        if config.regression == "pls" and source.shape[2] < config.n_components:
            scores[area] = -np.inf
            continue
        mapping = CrossValidatedMapping(source, folds, config.mode, config.regression,
                                        config.n_components, config.alpha)
        scores[area] = max(float(np.nanmean(aggregate(mapping.correlations(target, row)))) for row in index)
    best = max(scores, key=scores.get)
    return best, scores, rest_ids
