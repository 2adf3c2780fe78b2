"""Neural recordings as labelled arrays ``presentation x neuroid x time_bin``.

A recording uses the same layout as model activity (see :mod:`neurovision.dynamics.activity`):
``stimulus_id`` on ``presentation`` (plus ``repetition`` when trials are repeated and optional
labels such as ``object_name``), ``neuroid_id`` and ``region`` on ``neuroid``,
``time_bin_start``/``time_bin_end`` (ms after stimulus onset) on ``time_bin``. Values are
responses per bin (spike counts or rates); NaN marks a missing trial.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError

DIMS = ("presentation", "neuroid", "time_bin")


def make_recording(values, stimulus_ids, neuroid_ids, bins, region: str, repetition=None,
                   presentation_coords: dict | None = None, attrs: dict | None = None) -> xr.DataArray:
    """Build a recording from ``values`` (presentation, neuroid, time_bin)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3:
        raise DataError(f"recording values must be (presentation, neuroid, time_bin), got {values.shape}")
    coords = {
        "stimulus_id": ("presentation", np.asarray(stimulus_ids, dtype=str)),
        "neuroid_id": ("neuroid", np.asarray(neuroid_ids, dtype=str)),
        "region": ("neuroid", np.full(values.shape[1], region)),
        "time_bin_start": ("time_bin", np.array([b[0] for b in bins], dtype=np.float64)),
        "time_bin_end": ("time_bin", np.array([b[1] for b in bins], dtype=np.float64)),
    }
    if repetition is not None:
        coords["repetition"] = ("presentation", np.asarray(repetition, dtype=np.int64))
    for name, value in (presentation_coords or {}).items():
        coords[name] = ("presentation", np.asarray(value))
    recording = xr.DataArray(values, dims=DIMS, coords=coords, name="responses", attrs=attrs or {})
    check_recording(recording)
    return recording


def check_recording(recording: xr.DataArray) -> None:
    """Raise :class:`DataError` unless ``recording`` has the layout described above."""
    if not isinstance(recording, xr.DataArray):
        raise DataError(f"a recording must be an xarray.DataArray, got {type(recording).__name__}")
    if tuple(recording.dims) != DIMS:
        raise DataError(f"recording dims are {recording.dims}; expected {DIMS}")
    for name in ("stimulus_id", "neuroid_id", "region", "time_bin_start", "time_bin_end"):
        if name not in recording.coords:
            raise DataError(f"recording lacks the coordinate {name!r}")
    if recording.sizes["presentation"] == 0 or recording.sizes["neuroid"] == 0:
        raise DataError(f"empty recording: {dict(recording.sizes)}")
    if len(np.unique(recording["neuroid_id"].values)) != recording.sizes["neuroid"]:
        raise DataError("neuroid_id values are not unique")
    if "repetition" not in recording.coords:
        ids = recording["stimulus_id"].values
        if len(np.unique(ids)) != len(ids):
            raise DataError("stimulus ids repeat but the recording has no 'repetition' coordinate")


def time_bins(recording: xr.DataArray) -> list[tuple[float, float]]:
    """The ``(start, end)`` ms pairs of the recording's time bins."""
    return list(zip(recording["time_bin_start"].values.tolist(), recording["time_bin_end"].values.tolist()))


def stimulus_order(recording: xr.DataArray) -> np.ndarray:
    """Distinct stimulus ids in order of first appearance."""
    ids = recording["stimulus_id"].values
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def _per_stimulus_coords(recording: xr.DataArray, which: np.ndarray, first: np.ndarray) -> dict:
    """Presentation coordinates constant within every stimulus, one value per stimulus."""
    out = {}
    for name, coord in recording.coords.items():
        if coord.dims != ("presentation",) or name == "repetition":
            continue
        per_stimulus = coord.values[first]
        if np.array_equal(coord.values, per_stimulus[which]):
            out[name] = per_stimulus
    return out


def brainscore_order(keys: dict) -> np.ndarray:
    """Permutation sorting stimuli as brainscore's ``average_repetition`` leaves them.

    brainscore averages repetitions with ``multi_groupby`` over all presentation coordinates
    but ``repetition``, which sorts the groups by the tuple of those coordinates in assembly
    order (``stimulus_id`` first in its assemblies). ``keys``: coordinate name -> one value
    per stimulus, in the recording's coordinate order.
    """
    ranks = [pd.factorize(np.asarray(values), sort=True)[0] for values in keys.values()]
    return np.lexsort(ranks[::-1])


def average_repetitions(recording: xr.DataArray) -> xr.DataArray:
    """Mean over repetitions of each stimulus (NaN trials skipped), stimuli in brainscore's order.

    Presentation coordinates that are constant within a stimulus (e.g. ``object_name``) are
    kept; ``repetition`` and trial-varying ones are dropped. Stimuli are sorted by the tuple of
    the kept coordinates (:func:`brainscore_order`), so cross-validation splits drawn over
    the averaged stimuli are brainscore's own.
    """
    check_recording(recording)
    ids = recording["stimulus_id"].values
    seen = stimulus_order(recording)
    index = {s: i for i, s in enumerate(seen)}
    which = np.array([index[s] for s in ids])
    first = np.array([np.flatnonzero(which == i)[0] for i in range(len(seen))])
    keys = _per_stimulus_coords(recording, which, first)
    order = brainscore_order(keys)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    which = rank[which]
    values = recording.values
    valid = ~np.isnan(values)
    sums = np.zeros((len(seen),) + values.shape[1:])
    counts = np.zeros_like(sums)
    np.add.at(sums, which, np.where(valid, values, 0.0))
    np.add.at(counts, which, valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    coords = {name: coord for name, coord in recording.coords.items() if coord.dims != ("presentation",)}
    coords.update({name: ("presentation", value[order]) for name, value in keys.items()})
    return xr.DataArray(mean, dims=DIMS, coords=coords, name=recording.name, attrs=dict(recording.attrs))


def trial_arrays(recording: xr.DataArray, stimuli: np.ndarray):
    """``(trials, stimulus index into stimuli, repetition)`` for the split-half ceiling."""
    check_recording(recording)
    if "repetition" not in recording.coords:
        raise DataError("the recording has no 'repetition' coordinate, so no split-half ceiling")
    index = {s: i for i, s in enumerate(stimuli)}
    ids = recording["stimulus_id"].values
    missing = [s for s in ids if s not in index]
    if missing:
        raise DataError(f"trials of stimuli {missing[:5]} are not among the scored stimuli")
    return recording.values, np.array([index[s] for s in ids]), recording["repetition"].values
