"""Any registered neurovision model as a ``brainscore_vision`` :class:`BrainModel`.

Brain-Score benchmarks call ``start_recording(region, time_bins)`` and then
``look_at(stimulus_set)`` on images already placed on the model's screen (``visual_degrees``).
The adapter shows each image for ``stimulus_ms`` after ``blank_before_ms`` of blank (and blank
afterwards as long as the bins need), records the area mapped to the region, reduces it on
the fly and returns a ``NeuroidAssembly`` ``presentation x neuroid x time_bin``. Neural time
``t`` reads model time ``t - latency_ms``.

Needs the ``brainscore`` extra (``pip install neurovision[brainscore]``).
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
        "`pip install neurovision[brainscore]`"
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


def _as_bins(time_bins) -> list[tuple[float, float]]:
    try:
        bins = [(float(a), float(b)) for a, b in time_bins]
    except (TypeError, ValueError):
        raise NeurovisionError(f"time_bins must be (start, end) pairs in ms, got {time_bins!r}") from None
    if not bins or any(b <= a for a, b in bins):
        raise NeurovisionError(f"time_bins need start < end, got {bins}")
    return bins


class NeurovisionBrainModel(BrainModel):
    """Brain-Score view of a neurovision model (see module docstring)."""

    def __init__(self, model, identifier: str | None = None, region_areas: dict | None = None,
                 visual_degrees: float | None = None, stimulus_ms: float = 100.0,
                 blank_before_ms: float = 100.0, latency_ms: float = 0.0, reducer="auto",
                 max_features: int = 1024, batch_size: int = 32, device="cpu", progress: bool = False):
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
        self._task, self._region, self._bins = BrainModel.Task.passive, None, None

    @property
    def identifier(self) -> str:
        return self._identifier

    def visual_degrees(self) -> float:
        return self._degrees

    def start_task(self, task, fitting_stimuli=None) -> None:
        if task != BrainModel.Task.passive:
            raise NeurovisionError(
                f"{self.identifier} only supports passive fixation (BrainModel.Task.passive); "
                f"task {task!r} needs a readout the model does not have"
            )
        self._task = task

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

        if self._region is None:
            raise NeurovisionError("call start_recording(region, time_bins) before look_at")
        if hasattr(stimuli, "get_stimulus"):
            ids = [str(s) for s in stimuli["stimulus_id"].values]
            paths = [stimuli.get_stimulus(s) for s in ids]
            columns = {c: stimuli[c].values for c in stimuli.columns if c != "stimulus_id"}
        else:
            paths = [str(p) for p in stimuli]
            ids, columns = paths, {"stimulus_path": np.asarray(paths)}
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
