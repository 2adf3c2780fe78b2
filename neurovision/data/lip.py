"""Roitman & Shadlen (2002) LIP recordings: spike times and behaviour in the reaction-time dots task.

:func:`load_roitman` reads ``roitman-lip/T1RT.mat`` (6,149 trials of 54 LIP units): one row per
trial in :attr:`RoitmanLIP.trials` (``unit``, ``monkey``, ``coherence`` in %, ``direction`` and
``choice`` as 1 = toward T1, the target in the neuron's response field, 2 = toward T2,
``correct``, ``rt_ms``, ``signed_coherence`` = + toward T1) and the spike times of each trial in
ms from motion onset. Spikes exist from 100 ms before motion onset to 300 ms after the saccade.

:func:`aligned_rates` bins spikes (spikes/s) aligned to motion onset or to the saccade; bins
outside a trial's usable span are NaN: after ``saccade - 100 ms`` for motion alignment (the
saccade's own activity is excluded, as in the paper) and before motion onset + 200 ms for
saccade alignment.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import CorruptFileError, DataError, UnknownIdError
from .paths import data_path

#: 0-based columns of the trial matrix ``x`` (see ColumnNames608.m)
COLUMNS = {"unit": 0, "coherence": 2, "direction": 3, "choice": 4, "correct": 5,
           "dots_on": 6, "saccade": 7, "rt": 8}
ALIGNMENTS = ("motion", "saccade")
PRE_MOTION_MS, POST_SACCADE_MS, SACCADE_EXCLUSION_MS, MOTION_EXCLUSION_MS = 100.0, 300.0, 100.0, 200.0


@dataclass
class RoitmanLIP:
    """Trial table and spike times (ms from motion onset) of the LIP data set."""

    trials: pd.DataFrame
    spikes: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.trials)


def load_roitman(path: str | Path | None = None) -> RoitmanLIP:
    """Read ``T1RT.mat`` (default: the local data folder's ``roitman-lip``)."""
    import scipy.io

    path = Path(path) if path is not None else data_path("roitman-lip", "T1RT.mat")
    try:
        mat = scipy.io.loadmat(path)
        x, s, files = mat["x"], mat["s"], mat["f"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptFileError(f"cannot read the Roitman & Shadlen file {path}: {exc}") from exc
    if x.ndim != 2 or x.shape[1] < 9 or s.shape[0] != x.shape[0]:
        raise CorruptFileError(f"{path}: expected a trial matrix x (N, 31) and spike cells s (N, 1)")
    col = {k: x[:, i] for k, i in COLUMNS.items()}
    trials = pd.DataFrame({
        "unit": col["unit"].astype(int),
        "monkey": [str(f[0])[0] for f in files[:, 0]],
        "coherence": col["coherence"] / 10.0,
        "direction": col["direction"].astype(int),
        "choice": col["choice"].astype(int),
        "correct": col["correct"].astype(bool),
        "rt_ms": col["rt"].astype(float),
    })
    sign = np.where(trials["direction"] == 2, -1.0, 1.0)
    trials["signed_coherence"] = sign * trials["coherence"]
    spikes = [np.asarray(cell, dtype=float).ravel() - on for cell, on in zip(s[:, 0], col["dots_on"])]
    return RoitmanLIP(trials, spikes)


def aligned_rates(data: RoitmanLIP, align: str, window_ms: tuple[float, float], bin_ms: float) -> xr.DataArray:
    """Firing rates (spikes/s) ``trial x time`` in bins of ``bin_ms`` over ``window_ms`` around
    motion onset or the saccade; NaN where the trial gives no usable data (see module doc)."""
    if align not in ALIGNMENTS:
        raise UnknownIdError("alignment", align, list(ALIGNMENTS))
    edges = np.arange(window_ms[0], window_ms[1] + 1e-9, bin_ms)
    if len(edges) < 2:
        raise DataError(f"window {window_ms} ms holds no bin of {bin_ms} ms")
    rt = data.trials["rt_ms"].to_numpy()
    rates = np.full((len(data), len(edges) - 1), np.nan)
    for i, spikes in enumerate(data.spikes):
        if align == "motion":
            times, lo, hi = spikes, -PRE_MOTION_MS, rt[i] - SACCADE_EXCLUSION_MS
        else:
            times, lo, hi = spikes - rt[i], -rt[i] + MOTION_EXCLUSION_MS, POST_SACCADE_MS
        counts = np.histogram(times, edges)[0]
        usable = (edges[:-1] >= lo) & (edges[1:] <= hi)
        rates[i, usable] = counts[usable] * 1000.0 / bin_ms
    return xr.DataArray(rates, dims=("trial", "time"),
                        coords={"time": (edges[:-1] + edges[1:]) / 2, "unit": ("trial", data.trials["unit"].to_numpy())},
                        name="rate", attrs={"align": align, "bin_ms": bin_ms})


def population_psth(data: RoitmanLIP, rates: xr.DataArray, by: tuple[str, ...] = ("coherence", "choice"),
                    trials: np.ndarray | None = None) -> xr.DataArray:
    """Mean over units of each unit's condition-averaged rate: ``condition x time`` (spikes/s).

    ``trials`` (bool, N) restricts the trials used (e.g. correct choices only).
    """
    table = data.trials.assign(_row=np.arange(len(data)))
    if trials is not None:
        table = table[np.asarray(trials, dtype=bool)]
    values = rates.values
    keys = sorted(table.groupby(list(by)).groups)
    per_unit = np.full((table["unit"].nunique(), len(keys), values.shape[1]), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty bins average to NaN on purpose
        for u, (_, unit_rows) in enumerate(table.groupby("unit")):
            groups = unit_rows.groupby(list(by))["_row"].apply(list)
            for j, key in enumerate(keys):
                if key in groups:
                    per_unit[u, j] = np.nanmean(values[groups[key]], 0)
        mean = np.nanmean(per_unit, 0)
    labels = [k if isinstance(k, tuple) else (k,) for k in keys]
    coords = {name: ("condition", [lab[j] for lab in labels]) for j, name in enumerate(by)}
    return xr.DataArray(mean, dims=("condition", "time"), coords={**coords, "time": rates["time"].values},
                        name="psth", attrs=dict(rates.attrs))
