"""Activity as an xarray DataArray ``presentation x neuroid x time_bin`` and its NetCDF I/O.

Coordinates follow Brain-Score's NeuroidAssembly: ``stimulus_id`` on ``presentation``;
``neuroid_id``, ``region``, ``layer``, ``channel``, ``row``, ``col`` on ``neuroid``;
``time_bin_start``, ``time_bin_end`` (ms) on ``time_bin``. The same structure holds recordings.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import CorruptFileError, DataError
from ..io import atomic_path

NEUROID_COORDS = ("neuroid_id", "region", "layer", "channel", "row", "col")


def unit_coords(area: str, shape: tuple[int, ...], n_features: int) -> dict[str, np.ndarray]:
    """Default neuroid coordinates of ``n_features`` units of an area of ``shape``."""
    if int(np.prod(shape)) == n_features:
        full = tuple(shape) + (1,) * (3 - len(shape)) if len(shape) < 3 else tuple(shape)
        index = np.unravel_index(np.arange(n_features), full[-3:] if len(full) >= 3 else full)
        channel, row, col = (np.asarray(i) for i in index)
    else:  # reduced features (e.g. principal components): no spatial position
        channel, row, col = np.arange(n_features), -np.ones(n_features, int), -np.ones(n_features, int)
    return {"channel": channel, "row": row, "col": col}


def make_activity(values, stimulus_ids, bins, model=None, neuroid_coords=None, attrs=None):
    """Assemble ``{area: array (presentation, features, time_bin)}`` into one DataArray."""
    blocks, coords = [], {k: [] for k in NEUROID_COORDS}
    for area, data in values.items():
        n_features = data.shape[1]
        if neuroid_coords is not None:
            extra = neuroid_coords(area, n_features)
        else:
            shape = model.area_shape(area) if model is not None else (n_features,)
            extra = unit_coords(area, shape, n_features)
        coords["neuroid_id"].append(np.array([f"{area}.{i}" for i in range(n_features)]))
        coords["region"].append(np.full(n_features, area))
        coords["layer"].append(np.full(n_features, area))
        for key in ("channel", "row", "col"):
            coords[key].append(np.asarray(extra[key], dtype=np.int64))
        blocks.append(np.asarray(data, dtype=np.float32))
    data = np.concatenate(blocks, axis=1)
    starts = np.array([b[0] for b in bins], dtype=np.float64)
    ends = np.array([b[1] for b in bins], dtype=np.float64)
    return xr.DataArray(
        data,
        dims=("presentation", "neuroid", "time_bin"),
        coords={
            "stimulus_id": ("presentation", np.asarray(stimulus_ids, dtype=str)),
            **{k: ("neuroid", np.concatenate(v)) for k, v in coords.items()},
            "time_bin_start": ("time_bin", starts),
            "time_bin_end": ("time_bin", ends),
        },
        attrs={k: v for k, v in (attrs or {}).items() if v is not None},
        name="activity",
    )


def check_activity(activity: xr.DataArray) -> None:
    """Raise :class:`DataError` unless ``activity`` has the dims and coordinates above."""
    if not isinstance(activity, xr.DataArray):
        raise DataError(
            f"expected an xarray.DataArray, got {type(activity).__name__}; build one with "
            "neurovision.dynamics.make_activity or record"
        )
    if tuple(activity.dims) != ("presentation", "neuroid", "time_bin"):
        raise DataError(
            f"activity dims are {activity.dims}; expected ('presentation', 'neuroid', 'time_bin'). "
            "Use activity.transpose(...) or build it with make_activity"
        )
    for name in ("stimulus_id", "neuroid_id", "time_bin_start", "time_bin_end"):
        if name not in activity.coords:
            raise DataError(
                f"activity lacks the coordinate {name!r}; build it with make_activity, which "
                "sets stimulus_id, neuroid_id, time_bin_start and time_bin_end"
            )


def save_activity(activity: xr.DataArray, path: str | os.PathLike) -> Path:
    """Write ``activity`` to NetCDF atomically (lossless: float32 values, all coordinates)."""
    check_activity(activity)
    with atomic_path(path) as tmp:
        activity.to_netcdf(tmp, engine="netcdf4")
    return Path(path)


def load_activity(path: str | os.PathLike) -> xr.DataArray:
    """Read an activity NetCDF written by :func:`save_activity` into memory."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such activity file: {path}; check the path or record it again")
    try:
        with xr.open_dataarray(path, engine="netcdf4") as opened:
            activity = opened.load()
    except Exception as exc:
        raise CorruptFileError(
            f"cannot read {path} as NetCDF activity ({type(exc).__name__}: {str(exc)[:160]}); "
            "the file is truncated or not written by neurovision; record it again"
        ) from exc
    check_activity(activity)
    return activity
