"""Scoring results as an xarray Dataset, their NetCDF files and a printable table.

Variables (``region`` has length 1 for one benchmark; :func:`combine` stacks several):

* per time bin: ``score`` (median-over-neuroids test r, mean over splits) and ``score_error``
  (s.e.m. over splits), ``ceiling`` (split-half consistency), ``normalized_score``
  (``score**2 / ceiling``, Brain-Score's explained-variance normalisation; NaN where the
  ceiling is below ``min_ceiling``), ``control_score``/``control_error`` per control,
  ``p_value``, ``t_statistic`` and ``effect_size`` (paired over splits x neuroids) per control;
* overall (time-averaged per neuroid): ``overall_p_value``, ``overall_t_statistic``,
  ``overall_effect_size`` per control;
* details: ``r`` (split, neuroid, time_bin), ``control_r``, ``consistency`` (the ceiling's
  per-neuroid values), ``shift`` chosen per split, ``alignment_inner`` (inner-fold score per
  split and candidate shift), ``alignment_outer`` (test score per candidate shift and bin,
  for display only), ``null_score`` (permutation null of the mean score).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import CorruptFileError
from ..io import atomic_path
from .crossval import aggregate
from .stats import paired_test, per_bin_tests


def _sem(r: np.ndarray) -> np.ndarray:
    """Standard error over splits of the median-over-neuroids score, per bin."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_split = np.nanmedian(r, axis=1)
        return np.nanstd(per_split, axis=0) / np.sqrt(per_split.shape[0])


def build_results(*, r, bins, neuroid_ids, region, consistency=None, controls=None,
                  shifts=(0.0,), chosen=None, inner=None, outer=None, null=None,
                  min_ceiling: float = 0.1, attrs: dict | None = None) -> xr.Dataset:
    """Assemble the Dataset described in the module docstring from the scoring arrays."""
    controls = controls or {}
    n_splits, n_neuroids, n_bins = r.shape
    score = aggregate(r)
    ceiling = aggregate(consistency) if consistency is not None else np.full(n_bins, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(ceiling >= min_ceiling, score**2 / ceiling, np.nan)
    names = list(controls)
    data = {
        "score": (("time_bin",), score),
        "score_error": (("time_bin",), _sem(r)),
        "ceiling": (("time_bin",), ceiling),
        "normalized_score": (("time_bin",), normalized),
        "r": (("split", "neuroid", "time_bin"), r),
        "shift": (("split",), np.asarray(shifts)[chosen] if chosen is not None else np.zeros(n_splits)),
    }
    if names:
        tests = [per_bin_tests(r, controls[c]) for c in names]
        overall = [paired_test(np.nanmean(r, -1), np.nanmean(controls[c], -1)) for c in names]
        data.update({
            "control_score": (("control", "time_bin"), np.stack([aggregate(controls[c]) for c in names])),
            "control_error": (("control", "time_bin"), np.stack([_sem(controls[c]) for c in names])),
            "control_r": (("control", "split", "neuroid", "time_bin"), np.stack([controls[c] for c in names])),
            "p_value": (("control", "time_bin"), np.stack([t["p"] for t in tests])),
            "t_statistic": (("control", "time_bin"), np.stack([t["t"] for t in tests])),
            "effect_size": (("control", "time_bin"), np.stack([t["d"] for t in tests])),
            "overall_p_value": (("control",), np.array([o["p"] for o in overall])),
            "overall_t_statistic": (("control",), np.array([o["t"] for o in overall])),
            "overall_effect_size": (("control",), np.array([o["d"] for o in overall])),
        })
    if consistency is not None:
        data["consistency"] = (("ceiling_split", "neuroid", "time_bin"), consistency)
    if inner is not None:
        data["alignment_inner"] = (("split", "shift_candidate"), inner)
    if outer is not None:
        data["alignment_outer"] = (("shift_candidate", "time_bin"), outer)
    if null is not None:
        data["null_score"] = (("permutation",), np.asarray(null))
    coords = {
        "time_bin_start": ("time_bin", np.array([b[0] for b in bins], dtype=float)),
        "time_bin_end": ("time_bin", np.array([b[1] for b in bins], dtype=float)),
        "neuroid_id": ("neuroid", np.asarray(neuroid_ids, dtype=str)),
        "split": np.arange(n_splits),
        "shift_candidate": np.asarray(shifts, dtype=float),
    }
    if names:
        coords["control"] = np.asarray(names, dtype=str)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({
        "overall_score": float(np.nanmean(score)),
        "overall_ceiling": float(np.nanmean(ceiling)),
        "overall_normalized_score": float(np.nanmean(normalized)) if np.isfinite(normalized).any() else np.nan,
        "min_ceiling": float(min_ceiling),
        **{k: v for k, v in (attrs or {}).items() if v is not None},
    })
    return ds.expand_dims(region=[region])


def combine(results: list[xr.Dataset]) -> xr.Dataset:
    """Stack results of several regions/benchmarks along ``region``."""
    return xr.concat(results, dim="region", join="outer", combine_attrs="drop_conflicts")


def save_results(results: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write results to NetCDF atomically."""
    with atomic_path(path) as tmp:
        results.to_netcdf(tmp, engine="netcdf4")
    return Path(path)


def load_results(path: str | os.PathLike) -> xr.Dataset:
    """Read results written by :func:`save_results`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such results file: {path}")
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            results = opened.load()
    except Exception as exc:
        raise CorruptFileError(f"cannot read {path} as a results NetCDF ({type(exc).__name__}: {exc})") from exc
    if "score" not in results:
        raise CorruptFileError(f"{path} holds no 'score' variable; it is not a scoring result")
    return results


def format_table(results: xr.Dataset) -> str:
    """Plain-text table: one row per time bin, then the overall line and the alignment."""
    lines = []
    for region in results["region"].values:
        ds = results.sel(region=region)
        controls = list(ds["control"].values) if "control" in ds.coords else []
        head = f"{'bin (ms)':>12} {'score':>14} {'ceiling':>8} {'norm.':>7}"
        head += "".join(f" {c + ' ctl':>12} {'p':>9}" for c in controls)
        lines += [f"{ds.attrs.get('benchmark', '')} region {region} <- area "
                  f"{ds.attrs.get('area', '?')} of {ds.attrs.get('model', '?')}", head]
        for t in range(ds.sizes["time_bin"]):
            row = (f"{ds.time_bin_start.values[t]:5.0f}-{ds.time_bin_end.values[t]:<5.0f} "
                   f"{float(ds.score[t]):7.3f}±{float(ds.score_error[t]):5.3f} "
                   f"{float(ds.ceiling[t]):8.3f} {float(ds.normalized_score[t]):7.3f}")
            for c in controls:
                row += f" {float(ds.control_score.sel(control=c)[t]):12.3f} {float(ds.p_value.sel(control=c)[t]):9.2e}"
            lines.append(row)
        overall = (f"{'mean':>12} {ds.attrs['overall_score']:13.3f} {ds.attrs['overall_ceiling']:8.3f} "
                   f"{ds.attrs['overall_normalized_score']:7.3f}")
        for c in controls:
            overall += f" {float(ds.control_score.sel(control=c).mean()):12.3f} {float(ds.overall_p_value.sel(control=c)):9.2e}"
        lines.append(overall)
        shifts = ds["shift"].values
        lines.append(f"temporal shift: {ds.attrs.get('shift_ms', float(np.median(shifts))):g} ms "
                     f"({ds.attrs.get('shift_selection', 'manual')}; per split {sorted(set(shifts.tolist()))})")
        if "permutation_p_value" in ds.attrs:
            lines.append(f"permutation p (image-shuffled null, {ds.sizes['permutation']} draws): "
                         f"{ds.attrs['permutation_p_value']:.3g}")
    return "\n".join(lines)
