"""Any registered neurovision model as a ``brainscore_vision`` :class:`BrainModel`.

Brain-Score benchmarks call ``start_recording(region, time_bins)`` and then
``look_at(stimulus_set)`` on images already placed on the model's screen (``visual_degrees``).
The adapter shows each image for ``stimulus_ms`` after ``blank_before_ms`` of blank (and blank
afterwards as long as the bins need), records the area mapped to the region, reduces it on
the fly and returns a ``NeuroidAssembly`` ``presentation x neuroid x time_bin``. Neural time
``t`` reads model time ``t - latency_ms``.

Needs the ``brainscore`` extra (``pip install neurovision-ct[brainscore]``).
"""
from __future__ import annotations

import numpy as np
import torch

from ..data.images import prepare_images, to_tensor
from ..errors import DataError, NeurovisionError, UnknownIdError
from .presentation import ModelRecorder

try:
    from brainscore_vision.model_interface import BrainModel
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "neurovision.brain.brainscore_model needs brainscore-vision; install it with "
        "`pip install neurovision-ct[brainscore]`"
    ) from exc


def _load_images(paths, input_shape):
    """Images from files (any sizes) fitted to ``input_shape``: tensor (N, C, H, W)."""
    from PIL import Image

    if not len(paths):
        raise DataError("no stimuli to look at")
    out = []
    for path in paths:
        with Image.open(path) as image:
            array = np.asarray(image.convert("RGB"))
        out.append(prepare_images(to_tensor(array[None]), input_shape)[0])
    return torch.stack(out)


def _plain(value):
    """0-d arrays unwrapped, other arrays as lists (brainscore passes bins as object arrays)."""
    while isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    return value.tolist() if isinstance(value, np.ndarray) else value


def _stimulus_files(stimuli):
    """``(paths, stimulus ids, presentation columns)`` of a StimulusSet or a list of image paths."""
    if hasattr(stimuli, "get_stimulus"):
        ids = [str(s) for s in stimuli["stimulus_id"].values]
        paths = [str(stimuli.get_stimulus(s)) for s in ids]
        columns = {"stimulus_path": np.asarray(paths)}  # a second coordinate keeps stimulus_id a level
        columns.update({c: stimuli[c].values for c in stimuli.columns if c != "stimulus_id"})
        return paths, ids, columns
    paths = [str(p) for p in stimuli]
    return paths, paths, {"stimulus_path": np.asarray(paths)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _as_bins(time_bins) -> list[tuple[float, float]]:
    """``(start, end)`` ms pairs from every form brainscore passes.

    One pair ``(50, 150)``; a list of pairs; an object array of tuples (a ``time_bin``
    MultiIndex's values); a list holding 0-d object arrays that wrap a pair (single-bin
    benchmarks call ``start_recording(region, [array((50, 150), dtype=object)])``).
    """
    items = _plain(time_bins)
    if isinstance(items, (list, tuple)) and len(items) == 2 and all(_is_number(_plain(v)) for v in items):
        items = [items]
    try:
        bins = []
        for item in items:
            pair = [_plain(v) for v in _plain(item)]
            if len(pair) != 2 or not all(_is_number(v) for v in pair):
                raise ValueError
            bins.append((float(pair[0]), float(pair[1])))
    except (TypeError, ValueError):
        raise NeurovisionError(
            f"time_bins must be (start, end) pairs in ms, e.g. [(70, 170)] or (50, 150), got {time_bins!r}"
        ) from None
    if not bins or any(b <= a for a, b in bins):
        raise NeurovisionError(f"time_bins need start < end, got {bins}")
    return bins


class NeurovisionBrainModel(BrainModel):
    """Brain-Score view of a neurovision model (see module docstring)."""

    def __init__(self, model, identifier: str | None = None, region_areas: dict | None = None,
                 visual_degrees: float | None = None, stimulus_ms: float = 100.0,
                 blank_before_ms: float = 100.0, latency_ms: float = 0.0, reducer="auto",
                 max_features: int = 1024, batch_size: int = 32, device="cpu", progress: bool = False,
                 behavior_area: str | None = None):
        if isinstance(model, str):
            from ..registry import load_model

            identifier, model = identifier or model, load_model(model)
        self._identifier = identifier or type(model).__name__
        self.region_areas = dict(region_areas or getattr(model, "region_areas", None) or {})
        for area in self.region_areas.values():
            model.check_area(area)
        self._degrees = float(visual_degrees if visual_degrees is not None else model.visual_degrees)
        self.latency_ms = float(latency_ms)
        self.recorder = ModelRecorder(model, self._identifier, stimulus_ms, blank_before_ms, reducer,
                                      max_features, batch_size, device, progress)
        self.behavior_area = behavior_area or self.region_areas.get("IT") or model.areas[-1]
        model.check_area(self.behavior_area)
        self._task, self._region, self._bins, self._readout = BrainModel.Task.passive, None, None, None

    @property
    def identifier(self) -> str:
        return self._identifier

    def visual_degrees(self) -> float:
        return self._degrees

    #: tasks this adapter performs; a fitted read-out serves both behavioural ones
    SUPPORTED_TASKS = ("passive", "probabilities", "label")

    def start_task(self, task, fitting_stimuli=None, **kwargs) -> None:
        """``passive`` fixation, or ``probabilities``/``label`` read out of ``behavior_area``.

        The behavioural tasks fit brainscore's read-out (standardised features, multinomial
        logistic regression, C = 1e-3) on the area's mean activity over the image
        presentation, from ``fitting_stimuli``: a StimulusSet with an ``image_label`` column.
        ``label`` with a list of label names (e.g. ``'imagenet'``) would need the model's own
        classifier and is refused, as are the other tasks.
        """
        if task == BrainModel.Task.passive:
            self._task = task
            return
        if task not in (BrainModel.Task.probabilities, BrainModel.Task.label):
            raise NeurovisionError(
                f"{self.identifier} cannot do task {task!r}; it supports {list(self.SUPPORTED_TASKS)}"
            )
        if not hasattr(fitting_stimuli, "get_stimulus") or "image_label" not in fitting_stimuli.columns:
            raise NeurovisionError(
                f"{self.identifier} has no classifier of its own, so task {task!r} needs fitting "
                f"stimuli to fit a read-out of area {self.behavior_area!r}: a StimulusSet with an "
                f"'image_label' column, got {type(fitting_stimuli).__name__}"
            )
        from .readout import LogisticReadout

        features, _ = self._behavior_features(fitting_stimuli)
        self._readout = LogisticReadout().fit(features, fitting_stimuli["image_label"].values)
        self._task = task

    def _behavior_features(self, stimuli):
        """Mean activity of ``behavior_area`` while the image is on: (N, F) and stimulus ids."""
        paths, ids, _ = _stimulus_files(stimuli)
        images = _load_images(paths, self.recorder.model.input_shape)
        window = [(0.0, self.recorder.stimulus_ms)]
        activity = self.recorder.record(images, ids, self.behavior_area, window)
        return activity.values[:, :, 0], ids

    def start_recording(self, recording_target: str, time_bins) -> None:
        if recording_target not in self.region_areas:
            raise UnknownIdError("region", str(recording_target), list(self.region_areas))
        bins = _as_bins(time_bins)
        self.recorder.schedule_for(self._model_bins(bins))  # raises for bins outside the schedule
        self._region, self._bins = recording_target, bins

    def _model_bins(self, bins):
        return [(a - self.latency_ms, b - self.latency_ms) for a, b in bins]

    def look_at(self, stimuli, number_of_trials: int = 1):
        """Record the current region for ``stimuli`` (StimulusSet or image paths); deterministic."""
        from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

        if self._task != BrainModel.Task.passive:
            return self._behave(stimuli)
        if self._region is None:
            raise NeurovisionError("call start_recording(region, time_bins) before look_at")
        paths, ids, columns = _stimulus_files(stimuli)
        area = self.region_areas[self._region]
        images = _load_images(paths, self.recorder.model.input_shape)
        activity = self.recorder.record(images, ids, area, self._model_bins(self._bins))
        coords = {"stimulus_id": ("presentation", np.asarray(ids))}
        coords.update({c: ("presentation", np.asarray(v)) for c, v in columns.items()})
        coords.update({
            "neuroid_id": ("neuroid", activity["neuroid_id"].values),
            "region": ("neuroid", np.full(activity.sizes["neuroid"], self._region)),
            "layer": ("neuroid", np.full(activity.sizes["neuroid"], area)),
            "time_bin_start": ("time_bin", np.array([b[0] for b in self._bins])),
            "time_bin_end": ("time_bin", np.array([b[1] for b in self._bins])),
        })
        return NeuroidAssembly(activity.values, coords=coords, dims=["presentation", "neuroid", "time_bin"])

    def _behave(self, stimuli):
        """BehavioralAssembly: presentation x choice probabilities, or the chosen label."""
        from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly

        features, ids = self._behavior_features(stimuli)
        probabilities = self._readout.predict_proba(features)
        coords = {"stimulus_id": ("presentation", np.asarray(ids))}
        if self._task == BrainModel.Task.probabilities:
            coords["choice"] = ("choice", np.asarray(self._readout.labels))
            return BehavioralAssembly(probabilities, coords=coords, dims=["presentation", "choice"])
        labels = np.asarray(self._readout.labels)[probabilities.argmax(axis=1)]
        return BehavioralAssembly(labels[:, None], coords=coords, dims=["presentation", "choice"])
