"""Saving analysis results to NetCDF (atomically) and reading them back."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import CorruptFileError
from ..io import atomic_path


def to_dataset(result) -> xr.Dataset:
    """An :class:`xarray.Dataset` of a result: a Dataset, DataArray, DataFrame, or an object
    with ``to_dataset()`` (fixed points, trajectories) or ``to_frame()`` (spectra).
    Complex variables are split into ``<name>_real`` and ``<name>_imag``.
    """
    if hasattr(result, "to_dataset") and not isinstance(result, xr.DataArray):
        result = result.to_dataset()
    elif hasattr(result, "to_frame") and not isinstance(result, (pd.DataFrame, pd.Series)):
        result = result.to_frame()
    if isinstance(result, pd.DataFrame):
        result = xr.Dataset.from_dataframe(result)
    elif isinstance(result, xr.DataArray):
        result = result.to_dataset(name=result.name or "value")
    if not isinstance(result, xr.Dataset):
        raise TypeError(f"cannot store a {type(result).__name__} as NetCDF; give a Dataset, "
                        "DataArray, DataFrame or an analysis result")
    for name in list(result.data_vars):
        if np.iscomplexobj(result[name].values):
            values = result[name]
            result = result.drop_vars(name).assign({f"{name}_real": values.real, f"{name}_imag": values.imag})
    return result


def save_result(result, path: str | os.PathLike) -> Path:
    """Write ``result`` (see :func:`to_dataset`) to NetCDF at ``path`` atomically."""
    data = to_dataset(result)
    with atomic_path(path) as tmp:
        data.to_netcdf(tmp, engine="netcdf4")
    return Path(path)


def load_result(path: str | os.PathLike) -> xr.Dataset:
    """Read a result written by :func:`save_result` into memory."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such result file: {path}")
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            return opened.load()
    except Exception as exc:
        raise CorruptFileError(
            f"cannot read {path} as NetCDF ({type(exc).__name__}: {str(exc)[:160]}); the file "
            "is truncated or not a result file; compute and save it again"
        ) from exc
