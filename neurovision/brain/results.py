"""Scoring results as an xarray Dataset, their NetCDF files and a printable table.

Variables (``region`` has length 1 for one benchmark; :func:`combine` stacks several):

* per time bin: ``score`` (median-over-neuroids test r, mean over splits) and ``score_error``
  (s.d. over splits / sqrt(splits), descriptive: splits overlap), ``ceiling`` (split-half
  consistency), ``normalized_score`` (``score**2 / ceiling``, Brain-Score's explained-variance
  normalisation; NaN where the ceiling is below ``min_ceiling``);
* image-shuffled null (``n_permutations`` draws): ``null_score`` (permutation, time_bin),
  ``null_mean``, ``null_sd``, ``p_value`` (per bin, max-statistic adjusted over bins) and
  ``p_value_unadjusted``; attributes ``permutation_p_value`` (mean score over bins) and
  ``any_bin_significant``;
* time-specificity (re-pairings of neural and model bins): ``pairing_bins`` (pairing, time_bin: the
  model bin of which real bin is paired with each neural bin), ``pairing_score``,
  ``mismatched_score`` (mean over pairings that move the bin), ``time_specificity`` (score -
  mismatched); attributes ``time_specificity`` (its mean over bins) and
  ``time_specificity_p_value`` (rank of the real pairing's mean score among all pairings);
* alignment: ``shift`` chosen per split, ``alignment_inner_folds`` (split, fold, candidate)
  and ``alignment_inner`` (its fold mean), ``alignment_curve`` and ``alignment_curve_se``
  (see :func:`~neurovision.brain.alignment.shift_curve`), ``alignment_outer`` (test score per
  candidate and bin, display only); attributes ``shift_identified`` (1/0) and
  ``shift_within_low_ms``/``shift_within_high_ms`` (shifts within one SE of the best);
* for comparisons (:mod:`neurovision.brain.compare`): ``r`` (split, neuroid, time_bin) and
  ``test_stimulus`` (split, test_slot: indices of each split's test stimuli); ``consistency``.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import CorruptFileError
from ..io import atomic_path
from .alignment import shift_curve
from .crossval import aggregate
from .stats import max_statistic_p, permutation_p


def _sem(r: np.ndarray) -> np.ndarray:
    """Standard error over splits of the median-over-neuroids score, per bin."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_split = np.nanmedian(r, axis=1)
        return np.nanstd(per_split, axis=0) / np.sqrt(per_split.shape[0])


def _draw_scores(r: np.ndarray) -> np.ndarray:
    """:func:`aggregate` of every draw of (draw, split, neuroid, time_bin) r: (draw, time_bin)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.nanmedian(r, axis=2), axis=1)


def _image_variables(score, null_r, level) -> tuple[dict, dict]:
    null = _draw_scores(null_r)
    raw, adjusted = max_statistic_p(score, null)
    data = {"null_score": (("permutation", "time_bin"), null),
            "null_mean": (("time_bin",), np.nanmean(null, 0)),
            "null_sd": (("time_bin",), np.nanstd(null, 0)),
            "p_value": (("time_bin",), adjusted),
            "p_value_unadjusted": (("time_bin",), raw)}
    attrs = {"permutation_p_value": permutation_p(np.nanmean(score), np.nanmean(null, 1)),
             "any_bin_significant": int(np.nanmin(adjusted) <= level)}
    return data, attrs


def _pairing_variables(score, perms, pairing_r) -> tuple[dict, dict]:
    paired = _draw_scores(pairing_r)
    moved = perms != np.arange(perms.shape[1])
    with np.errstate(invalid="ignore"):
        mismatched = np.where(moved, paired, 0).sum(0) / moved.sum(0)
    data = {"pairing_bins": (("pairing", "time_bin"), perms),
            "pairing_score": (("pairing", "time_bin"), paired),
            "mismatched_score": (("time_bin",), mismatched),
            "time_specificity": (("time_bin",), score - mismatched)}
    attrs = {"time_specificity": float(np.nanmean(score - mismatched)),
             "time_specificity_p_value": permutation_p(np.nanmean(score), np.nanmean(paired, 1))}
    return data, attrs


def _alignment_variables(shifts, cells, inner_folds) -> tuple[dict, dict]:
    summary = shift_curve(cells, inner_folds)
    within = np.asarray(shifts)[summary["within"]]
    data = {"alignment_inner_folds": (("split", "fold", "shift_candidate"), cells),
            "alignment_inner": (("split", "shift_candidate"), np.nanmean(cells, axis=1)),
            "alignment_curve": (("shift_candidate",), summary["curve"]),
            "alignment_curve_se": (("shift_candidate",), summary["se"])}
    attrs = {"shift_identified": int(summary["identified"]),
             "shift_best_ms": float(shifts[summary["best"]]),
             "shift_within_low_ms": float(within.min()), "shift_within_high_ms": float(within.max())}
    return data, attrs


def build_results(*, r, bins, neuroid_ids, region, consistency=None, shifts=(0.0,), chosen=None,
                  inner_cells=None, outer=None, image_null=None, pairing=None, test_stimuli=None,
                  min_ceiling: float = 0.1, level: float = 0.05, inner_folds: int = 3,
                  attrs: dict | None = None) -> xr.Dataset:
    """Assemble the Dataset described in the module docstring from the scoring arrays.

    ``image_null``: test r (draw, split, neuroid, time_bin) of image-shuffled targets;
    ``pairing``: ``(perms (draw, time_bin), r (draw, split, neuroid, time_bin))`` of re-paired bins;
    ``inner_cells``: inner-fold scores (split, fold, shift candidate).
    """
    n_splits, n_neuroids, n_bins = r.shape
    score = aggregate(r)
    ceiling = aggregate(consistency) if consistency is not None else np.full(n_bins, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(ceiling >= min_ceiling, score**2 / ceiling, np.nan)
    data = {
        "score": (("time_bin",), score),
        "score_error": (("time_bin",), _sem(r)),
        "ceiling": (("time_bin",), ceiling),
        "normalized_score": (("time_bin",), normalized),
        "r": (("split", "neuroid", "time_bin"), r),
        "shift": (("split",), np.asarray(shifts)[chosen] if chosen is not None else np.zeros(n_splits)),
    }
    extra = {}
    for made in ((_image_variables(score, image_null, level) if image_null is not None else None),
                 (_pairing_variables(score, *pairing) if pairing is not None else None),
                 (_alignment_variables(shifts, inner_cells, inner_folds) if inner_cells is not None else None)):
        if made:
            data.update(made[0])
            extra.update(made[1])
    if test_stimuli is not None:
        data["test_stimulus"] = (("split", "test_slot"), np.asarray(test_stimuli, dtype=np.int64))
    if consistency is not None:
        data["consistency"] = (("ceiling_split", "neuroid", "time_bin"), consistency)
    if outer is not None:
        data["alignment_outer"] = (("shift_candidate", "time_bin"), outer)
    coords = {
        "time_bin_start": ("time_bin", np.array([b[0] for b in bins], dtype=float)),
        "time_bin_end": ("time_bin", np.array([b[1] for b in bins], dtype=float)),
        "neuroid_id": ("neuroid", np.asarray(neuroid_ids, dtype=str)),
        "split": np.arange(n_splits),
        "shift_candidate": np.asarray(shifts, dtype=float),
    }
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update({
        "overall_score": float(np.nanmean(score)),
        "overall_ceiling": float(np.nanmean(ceiling)) if np.isfinite(ceiling).any() else np.nan,
        "overall_normalized_score": float(np.nanmean(normalized)) if np.isfinite(normalized).any() else np.nan,
        "min_ceiling": float(min_ceiling),
        "level": float(level),
        **extra,
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


def _shift_line(ds) -> str:
    """The alignment as decided: one shift, or "shift not identified" with the evidence."""
    shifts = ds["shift"].values
    values, counts = np.unique(shifts, return_counts=True)
    per_split = ", ".join(f"{v:g}:{c}" for v, c in zip(values, counts))
    if "alignment_curve" not in ds:
        return f"temporal shift: {ds.attrs.get('shift_ms', float(np.median(shifts))):g} ms (manual)"
    curve, se = ds["alignment_curve"].values, ds["alignment_curve_se"].values
    candidates = ds["shift_candidate"].values
    shape = (f"inner-CV curve {np.nanmin(curve):.3f} to {np.nanmax(curve):.3f} over "
             f"{candidates.min():g}-{candidates.max():g} ms, SE at best {se[np.nanargmax(curve)]:.3f}; "
             f"per-split choices (ms:count) {per_split}")
    if not ds.attrs.get("shift_identified", 1):
        return f"shift not identified (curve flat within 1 SE): {shape}"
    best = ds.attrs["shift_best_ms"]
    edge = len(candidates) > 1 and (best == candidates.max() or best == candidates.min() > 0)
    warning = ("; best at the edge of the candidates, so the optimum may lie beyond them: widen --shifts"
               if edge else "")
    return (f"temporal shift: {best:g} ms (within 1 SE: "
            f"{ds.attrs['shift_within_low_ms']:g}-{ds.attrs['shift_within_high_ms']:g} ms); {shape}{warning}")


def format_table(results: xr.Dataset) -> str:
    """Plain-text table: one row per time bin, the mean row, then the tests and the alignment."""
    lines = []
    for region in results["region"].values:
        ds = results.sel(region=region)
        image, pairing = "null_mean" in ds and np.isfinite(ds["null_mean"]).any(), \
            "time_specificity" in ds and np.isfinite(ds["time_specificity"]).any()
        head = f"{'bin (ms)':>12} {'score':>14} {'ceiling':>8} {'norm.':>7}"
        head += f" {'null mean':>9} {'p (adj.)':>9}" if image else ""
        head += f" {'match-mism.':>11}" if pairing else ""
        lines += [f"{ds.attrs.get('benchmark', '')} region {region} <- area "
                  f"{ds.attrs.get('area', '?')} of {ds.attrs.get('model', '?')}", head]
        for t in range(ds.sizes["time_bin"]):
            row = (f"{ds.time_bin_start.values[t]:5.0f}-{ds.time_bin_end.values[t]:<5.0f} "
                   f"{float(ds.score[t]):7.3f}±{float(ds.score_error[t]):5.3f} "
                   f"{float(ds.ceiling[t]):8.3f} {float(ds.normalized_score[t]):7.3f}")
            row += f" {float(ds.null_mean[t]):9.3f} {float(ds.p_value[t]):9.3g}" if image else ""
            row += f" {float(ds.time_specificity[t]):11.3f}" if pairing else ""
            lines.append(row)
        overall = (f"{'mean':>12} {ds.attrs['overall_score']:13.3f} {ds.attrs['overall_ceiling']:8.3f} "
                   f"{ds.attrs['overall_normalized_score']:7.3f}")
        overall += f" {float(ds.null_mean.mean()):9.3f} {ds.attrs['permutation_p_value']:9.3g}" if image else ""
        overall += f" {ds.attrs['time_specificity']:11.3f}" if pairing else ""
        lines.append(overall)
        level = ds.attrs.get("level", 0.05)
        if image:
            lines.append(f"image-shuffled null, {ds.sizes['permutation']} draws: p = "
                         f"{ds.attrs['permutation_p_value']:.3g} for the mean score; some bin above the null "
                         f"at {level:g} (max-statistic adjusted): {'yes' if ds.attrs['any_bin_significant'] else 'no'}")
        if pairing:
            lines.append(f"time-specificity (matched - mismatched bins) {ds.attrs['time_specificity']:.3f}, "
                         f"p = {ds.attrs['time_specificity_p_value']:.3g} "
                         f"(rank among {ds.sizes['pairing']} re-pairings of the bins)")
        if not image and not pairing:
            lines.append("no null distributions (n_permutations = 0): no p-values")
        if ds.attrs.get("controls_not_applicable"):
            lines.append(f"not applicable here: {ds.attrs['controls_not_applicable']} "
                         "(the time-specificity test needs >= 4 bins)")
        lines.append(_shift_line(ds))
    return "\n".join(lines)
