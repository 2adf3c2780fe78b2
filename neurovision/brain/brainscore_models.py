"""Models of brainscore-vision's registry scored with the time-resolved pipeline.

``load_model("brainscore:<identifier>")`` builds the model through ``brainscore_vision`` (its
registry, or its plugin folders found the way brainscore finds them) and wraps it as
:class:`BrainscoreModel`. Scoring asks the model for the benchmark's regions and time bins
through the ``BrainModel`` interface: images are placed on the model's screen (Brain-Score's
rule), written as PNG files, and ``start_recording(region, bins)`` + ``look_at`` return
``presentation x neuroid [x time_bin]``.

* Models that produce time bins themselves are recorded over time, bin by bin.
* Static models (a ``ModelCommitment`` over a static activations model, or any model that
  returns no time axis) are declared static: one response stands for every bin, and the
  results carry ``time_course = "flat"``, which the score table states.

Plugin requirements are not installed (``BS_INSTALL_DEPENDENCIES=no`` unless set otherwise).
Areas larger than ``max_features`` are projected on their top principal components, fitted on
the model's own responses to the benchmark images (no neural data used).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError, UnknownIdError
from .presentation import place_on_screen

PREFIX = "brainscore:"
REGISTRATION = re.compile(r"model_registry\[\s*['\"]([^'\"]+)['\"]\s*\]")
REGIONS = ("V1", "V2", "V4", "IT")


def brainscore_model_ids() -> list[str]:
    """Ids in brainscore-vision's model registry and in its plugin folders' registrations."""
    import brainscore_vision

    ids = set(brainscore_vision.model_registry)
    for init in (Path(brainscore_vision.__file__).parent / "models").glob("*/__init__.py"):
        try:
            ids.update(REGISTRATION.findall(init.read_text(encoding="utf-8", errors="ignore")))
        except OSError:
            continue
    return sorted(ids)


def load_brainscore_model(identifier: str, max_features: int = 1024) -> "BrainscoreModel":
    """Build ``identifier`` through brainscore-vision; UnknownIdError lists close ids."""
    import brainscore_vision

    identifier = identifier[len(PREFIX):] if identifier.startswith(PREFIX) else identifier
    if identifier not in brainscore_vision.model_registry:
        if identifier not in brainscore_model_ids():
            raise UnknownIdError("brainscore-vision model", identifier, brainscore_model_ids())
        os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
        return BrainscoreModel(brainscore_vision.load_model(identifier), identifier, max_features)
    return BrainscoreModel(brainscore_vision.model_registry[identifier](), identifier, max_features)


def declared_static(brain_model) -> bool:
    """True for a ModelCommitment over a static (image-only) activations model."""
    from brainscore_vision.model_helpers.activations.temporal.model.base import ActivationWrapper
    from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

    return isinstance(brain_model, ModelCommitment) and not isinstance(brain_model.activations_model,
                                                                       ActivationWrapper)


class BrainscoreModel:
    """A brainscore-vision ``BrainModel`` seen by :func:`neurovision.brain.scoring.score_model`.

    Its "areas" are brain regions (the model's own commitment maps them to layers); pass
    :meth:`record_source` as ``record_fn`` (``neurovision score brainscore:ID`` does).
    """

    def __init__(self, brain_model, identifier: str, max_features: int = 1024):
        self.brain_model, self.identifier = brain_model, PREFIX + identifier
        self.visual_degrees = float(brain_model.visual_degrees())
        self.static = declared_static(brain_model)
        self.max_features = int(max_features)
        self.areas = REGIONS
        self.region_areas = {r: r for r in REGIONS}

    def check_area(self, area: str) -> None:
        if area not in self.areas:
            raise UnknownIdError("region", str(area), list(self.areas))

    def area_shape(self, area: str) -> tuple[int, ...]:
        """Unknown before recording; flat, so no spatial pooling is planned for it."""
        return (1,)

    def _stimulus_set(self, images: torch.Tensor, ids, source_degrees: float, folder: Path):
        from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet
        from PIL import Image

        from ..data.images import to_tensor

        x = images if isinstance(images, torch.Tensor) else to_tensor(np.asarray(images))
        placed = place_on_screen(x.float(), source_degrees, self.visual_degrees)
        paths = {}
        for stimulus, image in zip(ids, placed):
            array = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            paths[stimulus] = folder / f"{len(paths):06d}.png"
            Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(paths[stimulus])
        stimuli = StimulusSet({"stimulus_id": list(ids)})
        stimuli.stimulus_paths, stimuli.identifier = paths, None  # None: brainscore caches nothing
        return stimuli

    def record(self, images, ids, source_degrees: float, region: str, bins) -> np.ndarray:
        """Responses (stimulus, time_bin, neuroid) of ``region`` in ``bins`` (ms after onset)."""
        self.check_area(region)
        with tempfile.TemporaryDirectory(prefix="neurovision-brainscore-") as folder:
            stimuli = self._stimulus_set(images, ids, source_degrees, Path(folder))
            self.brain_model.start_task(self.brain_model.Task.passive)
            self.brain_model.start_recording(region, [tuple(b) for b in bins])
            assembly = self.brain_model.look_at(stimuli, number_of_trials=1)
        order = {s: i for i, s in enumerate(np.asarray(assembly["stimulus_id"].values).tolist())}
        missing = [s for s in ids if s not in order]
        if missing:
            raise DataError(f"{self.identifier} returned no responses for stimuli {missing[:3]}")
        if "time_bin" in assembly.dims:
            values = np.transpose(assembly.values, [assembly.dims.index(d) for d in
                                                    ("presentation", "time_bin", "neuroid")])
        else:
            self.static = True
            values = np.transpose(assembly.values, [assembly.dims.index(d) for d in
                                                    ("presentation", "neuroid")])[:, None]
        values = values[[order[s] for s in ids]].astype(np.float64)
        if values.shape[1] != len(bins):
            values = np.repeat(values[:, :1], len(bins), axis=1)
        return values

    def record_source(self, recorder, benchmark, area: str, shifts):
        """``record_fn`` for ``score_model``: (stimulus, model_bin, feature), index, attributes."""
        from .alignment import model_bins
        from .reducers import fit_pca

        images, ids = benchmark.stimuli()
        bins, index = model_bins(benchmark.time_bins, shifts)
        source = self.record(images, ids, benchmark.visual_degrees, area, bins)
        reducer = f"all {source.shape[2]} features"
        if source.shape[2] > self.max_features:
            means = torch.as_tensor(source.mean(axis=1))
            mean, axes = fit_pca(means, self.max_features)
            source = np.einsum("ptf,fk->ptk", source - mean.numpy(), axes.numpy())
            reducer = f"PCA to {axes.shape[1]} components (fitted on the model's responses)"
        time_course = "flat" if self.static else "recorded"
        return np.ascontiguousarray(source), index, {"reducer": reducer, "schedule": "brainscore BrainModel",
                                                     "time_course": time_course}


def score_brainscore_model(model: BrainscoreModel, benchmark, area=None, config=None, **kwargs):
    """``score_model`` for a brainscore-vision model; results say whether time is flat."""
    from .scoring import score_model

    kwargs.pop("record_fn", None)
    result = score_model(model, benchmark, area, config, record_fn=model.record_source, **kwargs)
    return result.assign_attrs(time_course="flat" if model.static else "recorded")
