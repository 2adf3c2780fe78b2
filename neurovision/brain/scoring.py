"""Score a model against a time-resolved benchmark: record, align, regress, ceil, control.

:func:`score_model` runs the whole pipeline for a registered model id (or a model) and a
benchmark id (or :class:`~neurovision.brain.benchmark.TemporalBenchmark`);
:func:`score_activity` starts from model activity already recorded at the needed model bins.
:func:`score_arrays` starts from activity and neural arrays. All return the Dataset of
:mod:`neurovision.brain.results`; its statistics are described in :mod:`neurovision.brain.stats`
and :mod:`neurovision.brain.controls`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr

from ..reliability.provenance import provenance
from ..errors import DataError
from .alignment import choose_shifts, model_bins, parse_shifts
from .benchmark import TemporalBenchmark
from .ceiling import split_half_consistency
from .controls import CONTROLS, applicable, image_null, pairing_null, per_split_r
from .crossval import CrossValidatedMapping, aggregate
from .recordings import trial_arrays
from .results import build_results
from .splits import brainscore_splits
from .stats import check_draws

NAN_POLICIES = ("raise", "drop-neuroids")


@dataclass
class ScoreConfig:
    """How to score. Times in ms.

    ``shift``: ``"auto"`` (chosen per split on training stimuli among ``shifts``) or a number;
    ``controls``: any of ``temporal`` (time-specificity test), ``image`` (image-shuffled null);
    ``n_permutations``: draws of each control's null (0: no null and no p-values; otherwise at
    least ``1/level - 1``); ``level``: significance level of the reported decisions;
    ``nan_policy``: ``raise`` on NaN responses left after averaging repetitions, or
    ``drop-neuroids`` with NaN.
    """

    mode: str = "spantime"
    regression: str = "pls"
    n_components: int = 25
    alpha: float = 1.0
    shift: str | float = "auto"
    shifts: str | list = "0:100:10"
    controls: tuple[str, ...] = CONTROLS
    n_permutations: int = 0
    level: float = 0.05
    n_splits: int = 10
    train_size: float = 0.9
    inner_folds: int = 3
    min_ceiling: float = 0.1
    nan_policy: str = "raise"
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def candidate_shifts(self) -> list[float]:
        if self.shift == "auto":
            return parse_shifts(self.shifts)
        try:
            return [float(self.shift)]
        except (TypeError, ValueError):
            raise DataError(f"shift must be 'auto' or a number of ms, got {self.shift!r}") from None

    def check(self, n_stimuli: int) -> None:
        """DataError when the permutation settings cannot give a usable test."""
        if not 0 < self.level < 1:
            raise DataError(f"level must be in (0, 1), got {self.level}")
        if self.n_permutations < 0:
            raise DataError(f"n_permutations must be >= 0, got {self.n_permutations}")
        check_draws(self.n_permutations, self.level)
        if self.n_permutations and math.factorial(min(n_stimuli, 20)) <= self.n_permutations:
            need = next(n for n in range(2, 21) if math.factorial(n) > self.n_permutations)
            raise DataError(f"{n_stimuli} stimuli have too few distinct orders for "
                            f"{self.n_permutations} image permutations; need >= {need} stimuli")


def neural_target(responses: xr.DataArray, nan_policy: str) -> tuple[np.ndarray, np.ndarray]:
    """``(target (stimulus, time_bin, neuroid), kept neuroid mask)`` under ``nan_policy``."""
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    values = responses.values
    bad = ~np.isfinite(values).all(axis=(0, 2))
    if bad.any() and nan_policy == "raise":
        raise DataError(
            f"{int(bad.sum())} of {len(bad)} neuroids have NaN responses after averaging "
            "repetitions (a stimulus never recorded); pass nan_policy='drop-neuroids' to drop them"
        )
    if bad.all():
        raise DataError("every neuroid has NaN responses; nothing left to score")
    return np.transpose(values[:, ~bad], (0, 2, 1)).astype(np.float64), ~bad


def score_arrays(source: np.ndarray, index: np.ndarray, target: np.ndarray, bins, config: ScoreConfig,
                 strata=None, neuroid_ids=None, region: str = "region", consistency=None,
                 attrs: dict | None = None) -> xr.Dataset:
    """Score ``source`` (stimulus, model_bin, feature) against ``target`` (stimulus, time_bin, neuroid).

    ``index`` (shift, time_bin) maps every candidate shift and neural bin to a model bin;
    ``bins`` are the neural bins in ms; ``consistency`` the ceiling's per-neuroid values.
    """
    config.check(len(target))
    splits = brainscore_splits(len(target), strata, config.n_splits, config.train_size)
    mapping = CrossValidatedMapping(source, splits, config.mode, config.regression,
                                    config.n_components, config.alpha)
    shifts = config.candidate_shifts()
    rng = np.random.default_rng(config.seed)
    cells = outer = None
    if len(shifts) > 1:
        chosen, cells = choose_shifts(mapping, target, index, strata, config.inner_folds, config.seed)
        by_shift = [mapping.correlations(target, row) for row in index]  # (split, neuroid, bin) each
        outer = np.stack([aggregate(r) for r in by_shift])
        r = np.stack([by_shift[j][k] for k, j in enumerate(chosen)])  # split k at its chosen shift
    else:
        chosen = np.zeros(len(splits), dtype=int)
        r = per_split_r(mapping, target, index, chosen)
    n = config.n_permutations
    image = image_null(mapping, target, index, chosen, n, rng) \
        if n and "image" in config.controls and applicable("image", target) else None
    pairing = pairing_null(mapping, target, index, chosen, n, rng) \
        if n and "temporal" in config.controls and applicable("temporal", target) else None
    chosen_ms = np.asarray(shifts)[chosen]
    values, counts = np.unique(chosen_ms, return_counts=True)
    info = {
        "shift_ms": float(values[counts.argmax()]),
        "shift_selection": "auto (inner folds of each training split)" if len(shifts) > 1 else "manual",
        "n_stimuli": int(len(target)),
        "n_train": int(len(splits.train[0])),
        "n_test": int(len(splits.test[0])),
        "controls_not_applicable": ",".join(c for c in config.controls if not applicable(c, target)),
        **mapping.power_stats.summary(),  # PLS power iterations stopped by max_iter, and by how much
        **provenance(config.seed, asdict(config)),
        **(attrs or {}),
    }
    return build_results(
        r=r, bins=bins, neuroid_ids=neuroid_ids if neuroid_ids is not None else np.arange(target.shape[2]),
        region=region, consistency=consistency, shifts=shifts, chosen=chosen, inner_cells=cells,
        outer=outer, image_null=image, pairing=pairing, test_stimuli=np.stack(splits.test),
        min_ceiling=config.min_ceiling, level=config.level, inner_folds=config.inner_folds, attrs=info,
    )


def score_activity(source: np.ndarray, index: np.ndarray, benchmark: TemporalBenchmark,
                   config: ScoreConfig, attrs: dict | None = None) -> xr.Dataset:
    """Score ``source`` (stimulus, model_bin, feature) aligned with ``benchmark.responses()``.

    ``index`` (shift, time_bin) maps every candidate shift and neural bin to a model bin.
    """
    responses = benchmark.responses()
    target, kept = neural_target(responses, config.nan_policy)
    consistency = None
    if benchmark.has_repetitions:
        trials, stimulus, repetition = trial_arrays(benchmark.recording, responses["stimulus_id"].values)
        consistency = split_half_consistency(trials[:, kept], stimulus, repetition)
    info = {"benchmark": benchmark.identifier, "n_neuroids_dropped": int((~kept).sum()), **(attrs or {})}
    return score_arrays(source, index, target, benchmark.time_bins, config, benchmark.strata(),
                        responses["neuroid_id"].values[kept], benchmark.region, consistency, info)


def record_source(recorder, benchmark: TemporalBenchmark, area: str, shifts, chunk: int = 128):
    """Model activity (stimulus, model_bin, feature) for every candidate shift, and its index.

    Images are placed on screen and recorded ``chunk`` at a time, so only the reduced
    activity of all stimuli is held, never all images at the model's input size.
    """
    from tqdm.auto import tqdm

    images, ids = benchmark.stimuli()
    bins, index = model_bins(benchmark.time_bins, shifts)
    parts, attrs = [], {}
    for start in tqdm(range(0, len(ids), chunk), desc=f"recording {area}", unit="chunk",
                      disable=not recorder.progress):
        prepared = recorder.prepare(images[start:start + chunk], benchmark.visual_degrees)
        activity = recorder.record(prepared, ids[start:start + chunk], area, bins, progress=False)
        parts.append(np.transpose(activity.values, (0, 2, 1)))
        attrs = activity.attrs
    return np.ascontiguousarray(np.concatenate(parts)), index, attrs


def resolve_model(model) -> tuple[object, str]:
    """``(model, identifier)`` from a registered id or a model instance."""
    if isinstance(model, str):
        from ..registry import load_model

        return load_model(model), model
    return model, getattr(model, "identifier", type(model).__name__)


def resolve_benchmark(benchmark) -> TemporalBenchmark:
    """A :class:`TemporalBenchmark` from a registered id or itself (clear error otherwise)."""
    if isinstance(benchmark, str):
        from ..registry import load_benchmark

        benchmark = load_benchmark(benchmark)
    if not isinstance(benchmark, TemporalBenchmark):
        raise DataError(
            f"{getattr(benchmark, 'identifier', benchmark)!r} is not a model-scoring benchmark "
            "(no images and neural responses to compare a model with); choose one that has "
            "images, e.g. cowley2023.V4 (see `neurovision list benchmarks`)"
        )
    return benchmark


def score_model(model, benchmark, area: str | None = None, config: ScoreConfig | None = None, *,
                reducer="auto", max_features: int = 1024, blank_before_ms: float | None = None,
                selection_fraction: float = 0.25, batch_size: int = 32, device="cpu",
                progress: bool = True, record_fn=None) -> xr.Dataset:
    """Score ``model`` (id or instance) on ``benchmark`` (id or instance); see the module doc.

    ``area``: the model area standing for the benchmark's region; None uses the model's
    ``region_areas`` declaration, ``"auto"`` (or no declaration) chooses it on a held-out
    ``selection_fraction`` of the stimuli, which are then left out of the scoring.
    ``record_fn``: replaces :func:`record_source` for the scored area (same arguments and
    return), e.g. a cache from :func:`neurovision.brain.activity_cache.cached_recorder`.
    """
    from ..allocator import release_free_memory
    from .presentation import ModelRecorder
    from .regions import mapped_area, select_area

    config = config or ScoreConfig()
    model, model_id = resolve_model(model)
    benchmark = resolve_benchmark(benchmark)
    shifts = config.candidate_shifts()
    earliest = min(b[0] for b in benchmark.time_bins) - max(shifts)
    before = blank_before_ms if blank_before_ms is not None else max(100.0, -earliest)
    recorder = ModelRecorder(model, model_id, benchmark.stimulus_ms, before, reducer, max_features,
                             batch_size, device, progress)
    chosen_area = mapped_area(model, benchmark.region, area)
    extra = {}
    if chosen_area is None:
        chosen_area, area_scores, rest = select_area(recorder, benchmark, None, shifts, config,
                                                     selection_fraction)
        benchmark = benchmark.subset(rest)
        extra = {"area_selection": repr(area_scores), "area_selection_fraction": selection_fraction}
    source, index, recorded = (record_fn or record_source)(recorder, benchmark, chosen_area, shifts)
    release_free_memory()  # the recording's freed blocks are not the sizes fitting allocates
    attrs = {"model": model_id, "area": chosen_area, "reducer": recorded.get("reducer"),
             "schedule": recorded.get("schedule"), "n_features": int(source.shape[2]),
             "visual_degrees_model": float(model.visual_degrees),
             "visual_degrees_stimuli": float(benchmark.visual_degrees), **extra}
    results = score_activity(source, index, benchmark, config, attrs)
    release_free_memory()
    return results
