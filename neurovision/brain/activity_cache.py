"""Recorded source activity of fixed models (baselines, untrained seeds), computed once per benchmark.

A model whose weights never change (a pixel or Gabor baseline, an untrained architecture at a
given seed) gives the same activity on a benchmark every time, so scoring it against many
trained models need not record it again. :func:`cached_source` stores what
:func:`~neurovision.brain.scoring.record_source` returns (source (stimulus, model_bin, feature),
index (shift, time_bin), attrs) under the cache folder (``$NEUROVISION_CACHE``, else
``~/.cache/neurovision``; sub-folder ``activity/``), keyed by a SHA-256 hash of the model id,
seed, benchmark id, stimulus ids, time bins, candidate shifts, recording settings and code
version. Files are written atomically (temporary file + rename) and hold their own key: a file
that cannot be read, or whose key, shapes or values do not fit, is recorded again with a
warning, never used.

``score_model(model, benchmark, record_fn=cached_recorder(model_id, seed=...))`` scores from
the cache.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..io import atomic_path

ENV = "NEUROVISION_CACHE"
Recorded = tuple[np.ndarray, np.ndarray, dict]


def cache_folder(folder: str | os.PathLike | None = None) -> Path:
    """Where recorded activity is cached: ``folder``, ``$NEUROVISION_CACHE`` or ``~/.cache/neurovision``."""
    root = Path(folder) if folder else Path(os.environ.get(ENV) or Path.home() / ".cache" / "neurovision")
    return root / "activity"


def code_version(*objects) -> str:
    """neurovision's version and a hash of the source files defining ``objects`` (their classes)."""
    from .. import __version__

    digest = hashlib.sha256()
    for obj in objects:
        cls = obj if inspect.isclass(obj) else type(obj)
        for klass in cls.__mro__:
            if klass.__module__.startswith("neurovision"):
                digest.update(Path(inspect.getsourcefile(klass)).read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def recording_settings(recorder) -> dict:
    """What of a :class:`~neurovision.brain.presentation.ModelRecorder` changes the activity."""
    model = recorder.model
    return {
        "stimulus_ms": recorder.stimulus_ms,
        "blank_before_ms": recorder.blank_before_ms,
        "reducer": recorder.describe_reducer(),
        "step_ms": recorder.step_ms,
        "input_shape": list(model.input_shape or []),
        "visual_degrees": float(model.visual_degrees),
    }


def cache_key(model_id: str, seed: int | None, benchmark, area: str, shifts, settings: dict,
              version: str) -> tuple[str, str]:
    """``(sha256 hex digest, canonical JSON)`` of everything that determines the recorded source."""
    ids = [str(s) for s in benchmark.responses()["stimulus_id"].values]
    payload = {
        "model": model_id, "seed": seed, "area": area,
        "benchmark": benchmark.identifier,
        "stimulus_ids": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
        "n_stimuli": len(ids),
        "time_bins": [[float(a), float(b)] for a, b in benchmark.time_bins],
        "visual_degrees_stimuli": float(benchmark.visual_degrees),
        "shifts": [float(s) for s in shifts],
        "settings": settings, "code_version": version,
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest(), text


def cache_path(folder: Path, model_id: str, digest: str) -> Path:
    return folder / re.sub(r"[^A-Za-z0-9._-]+", "_", model_id) / f"{digest}.npz"


def _read(path: Path, key: str, n_stimuli: int, index_shape: tuple[int, int]) -> Recorded:
    """The cached triple, or ValueError/OSError saying why it cannot be used."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        source, index = data["source"], data["index"]
    if meta.get("key") != key:
        raise ValueError("its key differs from the requested one")
    if source.ndim != 3 or source.shape[0] != n_stimuli or index.shape != index_shape:
        raise ValueError(f"shapes {source.shape}, {index.shape} do not fit {n_stimuli} stimuli, index {index_shape}")
    if index.min() < 0 or index.max() >= source.shape[1]:
        raise ValueError("its bin index points outside the recorded bins")
    if not np.isfinite(source).all():
        raise ValueError("it holds NaN/Inf activity")
    return source, index, meta["attrs"]


def _write(path: Path, key: str, recorded: Recorded) -> None:
    source, index, attrs = recorded
    meta = json.dumps({"key": key, "attrs": {k: v for k, v in attrs.items() if _is_plain(v)}})
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, source=np.asarray(source), index=np.asarray(index), meta=np.array(meta))


def _is_plain(value) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def cached_source(model_id: str, benchmark, area: str, shifts, record_fn: Callable[[], Recorded], *,
                  seed: int | None = None, settings: dict | None = None, version: str = "",
                  folder: str | os.PathLike | None = None) -> Recorded:
    """``record_fn()`` (source, index, attrs) for this key, read from the cache or computed and stored.

    ``model_id`` and ``seed`` name the fixed model; ``settings`` (JSON-serialisable) and
    ``version`` (see :func:`code_version`) whatever else changes its activity. A corrupt or
    mismatching file is recomputed with a warning and replaced.
    """
    digest, key = cache_key(model_id, seed, benchmark, area, shifts, settings or {}, version)
    path = cache_path(cache_folder(folder), model_id, digest)
    n_stimuli = int(benchmark.responses().sizes["presentation"])
    index_shape = (len(shifts), len(benchmark.time_bins))
    if path.is_file():
        try:
            source, index, attrs = _read(path, key, n_stimuli, index_shape)
            return source, index, {**attrs, "activity_cache": str(path)}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            warnings.warn(f"cached activity {path} is unusable ({exc}); recording it again", stacklevel=2)
    source, index, attrs = record_fn()
    _write(path, key, (source, index, attrs))
    return source, index, {**attrs, "activity_cache": str(path)}


def cached_recorder(model_id: str, seed: int | None = None, version: str | None = None,
                    folder: str | os.PathLike | None = None, extra: dict | None = None):
    """A ``record_fn`` for :func:`~neurovision.brain.scoring.score_model` that caches its source.

    ``version`` defaults to :func:`code_version` of the recorded model; ``extra``
    (JSON-serialisable, e.g. the model's configuration) joins the key's settings.
    """
    from .scoring import record_source

    def record(recorder, benchmark, area, shifts):
        return cached_source(
            model_id, benchmark, area, shifts, lambda: record_source(recorder, benchmark, area, shifts),
            seed=seed, settings={**recording_settings(recorder), **(extra or {})},
            version=version if version is not None else code_version(recorder.model), folder=folder)

    return record
