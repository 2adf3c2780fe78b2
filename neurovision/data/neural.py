"""Loaders shared by neural benchmarks: Brain-Score assemblies and stimulus image files.

* :func:`assembly_to_recording`: a brainio ``NeuroidAssembly`` (MultiIndex coordinates) or a
  NetCDF file with the same coordinates -> a plain recording DataArray
  (see :mod:`neurovision.brain.recordings`);
* :func:`load_image_files`: image files -> one uint8 array ``(N, H, W, 3)`` (resized to a
  common size when they differ), the compact form benchmarks keep stimuli in.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import CorruptFileError, DataError

DIMS = ("presentation", "neuroid", "time_bin")
#: NeuroDecodeR raster column names: ``time.<start>_<end>`` in ms
TIME_COLUMN = re.compile(r"time\.(-?[0-9.]+)_(-?[0-9.]+)")


def assembly_to_recording(assembly, region: str | None = None) -> xr.DataArray:
    """Plain ``presentation x neuroid x time_bin`` DataArray from a brainio assembly.

    MultiIndex levels become ordinary coordinates; an assembly without a ``time_bin``
    dimension but with scalar ``time_bin_start``/``time_bin_end`` gets a single bin.
    ``region`` keeps only those neuroids.
    """
    data = xr.DataArray(assembly)
    for dim in list(data.dims):
        if isinstance(data.indexes.get(dim), pd.MultiIndex):
            data = data.reset_index(dim)
    if "time_bin" not in data.dims:
        if "time_bin_start" not in data.coords:
            raise DataError("the assembly has no time_bin dimension nor time_bin_start/time_bin_end")
        data = data.expand_dims("time_bin", axis=-1)
        for name in ("time_bin_start", "time_bin_end"):
            data = data.assign_coords({name: ("time_bin", np.atleast_1d(data[name].values))})
    missing = [d for d in DIMS if d not in data.dims]
    if missing:
        raise DataError(f"the assembly lacks dimensions {missing}; it has {data.dims}")
    data = data.transpose(*DIMS)
    if region is not None:
        if "region" not in data.coords:
            raise DataError("the assembly has no 'region' coordinate to select neuroids by")
        keep = data["region"].values == region
        if not keep.any():
            raise DataError(f"no neuroids of region {region!r}; regions: {sorted(set(data['region'].values))}")
        data = data.isel(neuroid=keep)
    coords = {}
    for name, coord in data.coords.items():
        values = coord.values
        if values.dtype == object:
            values = values.astype(str)
        coords[name] = (coord.dims, values)
    return xr.DataArray(data.values.astype(np.float64), dims=DIMS, coords=coords, name="responses",
                        attrs={k: v for k, v in data.attrs.items() if isinstance(v, (str, int, float))})


def load_assembly_netcdf(path: str | os.PathLike, region: str | None = None) -> xr.DataArray:
    """Read a NetCDF assembly (as brainio writes them) into a recording."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such assembly file: {path}")
    try:
        with xr.open_dataarray(path) as opened:
            data = opened.load()
    except Exception as exc:
        raise CorruptFileError(f"cannot read {path} as a NetCDF assembly ({type(exc).__name__}: {exc})") from exc
    return assembly_to_recording(data, region)


def load_image_files(paths, size: tuple[int, int] | None = None) -> np.ndarray:
    """uint8 RGB array (N, H, W, 3) of image files; resized (bilinear) to ``size`` or the first's."""
    from PIL import Image

    arrays, target = [], size
    for path in paths:
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                target = target or (image.height, image.width)
                if (image.height, image.width) != tuple(target):
                    image = image.resize((target[1], target[0]), Image.BILINEAR)
                arrays.append(np.asarray(image))
        except OSError as exc:
            raise DataError(f"cannot read stimulus image {path}: {exc}") from exc
    if not arrays:
        raise DataError("no stimulus images given")
    return np.stack(arrays)


def read_raster_rda(path: str | os.PathLike) -> dict:
    """One NeuroDecodeR raster file (R ``.rda`` holding ``raster_data``), read with ``rdata``.

    Returns ``{"raster": uint8 (trial, time) spikes per 1-ms bin, "times": (time, 2) bin
    edges in ms relative to stimulus onset, "labels": {name: str array per trial},
    "site": {name: value}}``.
    """
    import warnings

    try:
        import rdata
    except ImportError as exc:
        raise ImportError("reading .rda rasters needs the `rdata` package (pip install rdata)") from exc
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such raster file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Missing constructor")
            frame = rdata.read_rda(str(path))["raster_data"]
    except Exception as exc:
        raise CorruptFileError(f"cannot read {path} as an R raster_data file ({type(exc).__name__}: {exc})") from exc
    columns = [c for c in frame.columns if TIME_COLUMN.fullmatch(str(c))]
    if not columns:
        raise CorruptFileError(f"{path} has no time.<start>_<end> raster columns")
    edges = np.array([[float(v) for v in TIME_COLUMN.fullmatch(str(c)).groups()] for c in columns])
    return {
        "raster": frame[columns].to_numpy().astype(np.uint8),
        "times": edges,
        "labels": {c[7:]: frame[c].astype(str).to_numpy() for c in frame.columns if str(c).startswith("labels.")},
        "site": {c[10:]: frame[c].iloc[0] for c in frame.columns if str(c).startswith("site_info.")},
    }
