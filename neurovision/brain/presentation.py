"""Showing stimuli to a model the way an experiment shows them to a monkey.

* :func:`place_on_screen`: an image spanning ``source_degrees`` of visual angle is shown to a
  model that sees ``target_degrees``: enlarged onto a gray canvas when the model sees more,
  centre-cropped when it sees less (Brain-Score's convention, with its rounding).
* :class:`ModelRecorder`: presents images with a ``blank -> image -> blank`` schedule in ms and
  records one area's activity in requested time bins (ms after image onset), reducing it on
  the fly (see :mod:`neurovision.brain.reducers`).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..data.images import prepare_images, to_tensor
from ..dynamics import Schedule, record
from ..dynamics.base import SampledModel
from ..errors import ScheduleError
from .reducers import auto_reducer

#: PIL's 'gray' (128, 128, 128), the background Brain-Score pastes small images on
GRAY = 128 / 255


def place_on_screen(images: torch.Tensor, source_degrees: float, target_degrees: float) -> torch.Tensor:
    """Images (N, C, H, W) spanning ``source_degrees`` as seen by a ``target_degrees`` model."""
    if source_degrees <= 0 or target_degrees <= 0:
        raise ValueError(f"visual degrees must be > 0, got {source_degrees}, {target_degrees}")
    if source_degrees == target_degrees:
        return images
    ratio = target_degrees / source_degrees
    height, width = images.shape[-2:]
    new_w, new_h = (int(np.round(ratio * s)) for s in (width, height))
    if ratio >= 1:
        canvas = images.new_full((*images.shape[:-2], new_h, new_w), GRAY)
        left, top = (int(np.round((n - s) / 2)) for n, s in ((new_w, width), (new_h, height)))
        canvas[..., top:top + height, left:left + width] = images
        return canvas
    left, top = (int(np.round((s - n) / 2)) for n, s in ((new_w, width), (new_h, height)))
    return images[..., top:top + new_h, left:left + new_w]


def _round_up(value: float, step: float) -> float:
    return math.ceil(value / step - 1e-9) * step


class ModelRecorder:
    """Present images to ``model`` and record an area's binned activity (ms after onset).

    ``stimulus_ms``: how long each image stays on; ``blank_before_ms``: blank before onset
    (the earliest bin may start at ``-blank_before_ms``); the blank after the image lasts as long
    as the latest requested bin needs. ``reducer``: callable ``(area, x) -> (batch, F)``, or
    ``"auto"`` for :func:`~neurovision.brain.reducers.auto_reducer` with ``max_features``.
    """

    def __init__(self, model, identifier: str | None = None, stimulus_ms: float = 100.0,
                 blank_before_ms: float = 100.0, reducer="auto", max_features: int = 1024,
                 batch_size: int = 32, device="cpu", progress: bool = True):
        self.model, self.identifier = model, identifier or type(model).__name__
        self.stimulus_ms, self.blank_before_ms = float(stimulus_ms), float(blank_before_ms)
        self.reducer = auto_reducer(model, model.areas, max_features) if reducer == "auto" else reducer
        self.batch_size, self.device, self.progress = batch_size, device, progress

    @property
    def step_ms(self) -> float:
        """Time resolution of the model (integration step or sampling interval) in ms."""
        if isinstance(self.model, SampledModel):
            return float(self.model.sample_interval)
        return float(self.model.dt)

    def schedule_for(self, bins) -> Schedule:
        """``blank -> image -> blank`` schedule covering ``bins`` (ms after onset)."""
        step = self.step_ms
        start = min(b[0] for b in bins)
        if start < -self.blank_before_ms - 1e-9:
            raise ScheduleError(
                f"time bin starting at {start:g} ms lies before the presentation, which starts "
                f"{self.blank_before_ms:g} ms before image onset; raise blank_before_ms or drop it"
            )
        before = _round_up(self.blank_before_ms, step)
        image = _round_up(self.stimulus_ms, step)
        after = _round_up(max(0.0, max(b[1] for b in bins) - image), step)
        return Schedule.presentation(before, image, after)

    def prepare(self, images, source_degrees: float | None = None) -> torch.Tensor:
        """Place images spanning ``source_degrees`` on the model's screen and fit its input.

        ``images``: float tensor (N, C, H, W) in [0, 1] or uint8 array (N, H, W[, C]).
        """
        x = images if isinstance(images, torch.Tensor) else to_tensor(images)
        if source_degrees is not None:
            x = place_on_screen(x.float(), source_degrees, float(self.model.visual_degrees))
        return prepare_images(x, self.model.input_shape)

    def record(self, images: torch.Tensor, stimulus_ids, area: str, bins, progress: bool | None = None):
        """Binned activity of ``area``: DataArray (presentation, neuroid, time_bin)."""
        self.model.check_area(area)
        schedule = self.schedule_for(bins)
        activity = record(self.model, images, schedule, [area], bins, stimulus_ids=stimulus_ids,
                          batch_size=self.batch_size, device=self.device, reducer=self.reducer,
                          progress=self.progress if progress is None else progress)
        activity.attrs.update(model=self.identifier, area=area, reducer=self.describe_reducer())
        return activity

    def describe_reducer(self) -> str:
        return self.reducer.describe() if hasattr(self.reducer, "describe") else repr(self.reducer)
