"""A time-resolved neural benchmark: recordings, the images shown, and how they were shown.

Benchmark plugins (``benchmarks/<name>/``) build a :class:`TemporalBenchmark`; scoring a model
on it is :func:`neurovision.brain.scoring.score_model`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import xarray as xr

from ..dynamics.schedule import parse_time_bins
from ..errors import DataError, ScheduleError
from .recordings import average_repetitions, check_recording, time_bins


def rebin(recording: xr.DataArray, bins) -> xr.DataArray:
    """Average a recording's bins into coarser ``bins`` (ms); each must be covered exactly.

    A new bin is the duration-weighted mean of the recorded bins inside it, so
    ``"70:170:10"`` on 10-ms data selects bins and ``"70:170:50"`` merges five at a time.
    """
    bins = parse_time_bins(bins)
    have = np.array(time_bins(recording))
    weights = np.zeros((len(have), len(bins)))
    for j, (start, end) in enumerate(bins):
        inside = (have[:, 0] >= start - 1e-9) & (have[:, 1] <= end + 1e-9)
        covered = (have[inside, 1] - have[inside, 0]).sum()
        if not inside.any() or abs(covered - (end - start)) > 1e-6:
            raise ScheduleError(
                f"time bin ({start:g}, {end:g}] ms is not tiled by the recorded bins "
                f"{have[0, 0]:g}..{have[-1, 1]:g} ms of width {have[0, 1] - have[0, 0]:g} ms; "
                "choose bins on the recording's grid and inside its range"
            )
        weights[inside, j] = (have[inside, 1] - have[inside, 0]) / covered
    values = np.einsum("pnt,tj->pnj", recording.values, weights)
    out = recording.isel(time_bin=[0] * len(bins)).copy(data=values)
    return out.assign_coords(time_bin_start=("time_bin", [b[0] for b in bins]),
                             time_bin_end=("time_bin", [b[1] for b in bins]))


@dataclass
class TemporalBenchmark:
    """Neural responses over time to images, with the presentation parameters.

    ``recording``: trials (with a ``repetition`` coordinate, for the ceiling) or repetition
    averages (presentation, neuroid, time_bin); ``load_stimuli()`` returns images (N, C, H, W)
    in [0, 1] and their stimulus ids; ``visual_degrees``: the images' size on the monkey's
    screen; ``stimulus_ms``: how long each image was shown; ``stratify``: presentation
    coordinate that splits are stratified by (None: plain shuffle splits). Images are loaded
    once per benchmark object (a model and its baselines see the same ones).
    """

    identifier: str
    region: str
    recording: xr.DataArray
    load_stimuli: Callable[[], tuple[torch.Tensor, list[str]]]
    visual_degrees: float
    stimulus_ms: float
    stratify: str | None = "object_name"
    description: str = ""
    bibtex: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        check_recording(self.recording)
        if self.stratify and self.stratify not in self.recording.coords:
            raise DataError(f"benchmark {self.identifier}: no {self.stratify!r} coordinate to stratify by")
        self._responses = None
        self._stimuli = None

    @property
    def time_bins(self) -> list[tuple[float, float]]:
        return time_bins(self.recording)

    @property
    def has_repetitions(self) -> bool:
        return "repetition" in self.recording.coords

    def with_time_bins(self, bins) -> "TemporalBenchmark":
        """The same benchmark on other time bins (see :func:`rebin`)."""
        return TemporalBenchmark(self.identifier, self.region, rebin(self.recording, bins),
                                 self.load_stimuli, self.visual_degrees, self.stimulus_ms,
                                 self.stratify, self.description, self.bibtex, dict(self.meta))

    def responses(self) -> xr.DataArray:
        """Repetition-averaged responses (stimulus, neuroid, time_bin)."""
        if self._responses is None:
            self._responses = average_repetitions(self.recording) if self.has_repetitions else self.recording
        return self._responses

    def strata(self):
        """Stratification labels of the averaged presentations, or None."""
        return None if not self.stratify else self.responses()[self.stratify].values

    def stimuli(self) -> tuple[torch.Tensor, list[str]]:
        """Images in the order of :meth:`responses`; DataError naming ids that do not match."""
        if self._stimuli is None:
            self._stimuli = self._ordered_stimuli()
        return self._stimuli

    def _ordered_stimuli(self):
        images, ids = self.load_stimuli()
        ids = [str(i) for i in ids]
        if len(ids) != len(images):
            raise DataError(f"{len(ids)} stimulus ids for {len(images)} images")
        wanted = self.responses()["stimulus_id"].values
        where = {s: i for i, s in enumerate(ids)}
        missing = [s for s in wanted if s not in where]
        if missing:
            raise DataError(
                f"{len(missing)} stimulus ids of the recordings have no image, e.g. {missing[:5]}; "
                f"image ids look like {ids[:3]}. The stimulus set does not match the assembly"
            )
        order = torch.as_tensor([where[s] for s in wanted])
        return images[order], list(wanted)

    def subset(self, stimulus_ids) -> "TemporalBenchmark":
        """The benchmark restricted to ``stimulus_ids`` (all their trials)."""
        keep = np.isin(self.recording["stimulus_id"].values, np.asarray(stimulus_ids, dtype=str))
        if not keep.any():
            raise DataError(f"none of the given stimulus ids are in benchmark {self.identifier}")
        return TemporalBenchmark(self.identifier, self.region, self.recording.isel(presentation=keep),
                                 self.load_stimuli, self.visual_degrees, self.stimulus_ms,
                                 self.stratify, self.description, self.bibtex, dict(self.meta))
