"""The figure of a scoring run: score over time against the controls, and the alignment curve.

Left: median-over-neuroids test r per time bin (mean ± s.e.m. over splits), the image-shuffled
null (mean ± s.d. over draws), the mismatched-bin score of the time-specificity test and the
square root of the ceiling (the r a perfect model would reach); bins are drawn at their centres
(ms after image onset). Right: the inner-CV curve over candidate shifts ± its standard error,
with the shift chosen in each split ("not identified" when the curve is flat within 1 SE).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..io import atomic_path

COLORS = {"score": "#4b2a7b", "temporal": "#b39ddb", "image": "#9e9e9e"}


def plot_results(results: xr.Dataset, region=None):
    """A matplotlib Figure of one region's results (the first region by default)."""
    import matplotlib

    matplotlib.use(os.environ.get("MPLBACKEND", "Agg"), force=False)
    import matplotlib.pyplot as plt

    ds = results.sel(region=region if region is not None else results["region"].values[0])
    centre = (ds["time_bin_start"].values + ds["time_bin_end"].values) / 2
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
    style = dict(marker="o") if len(centre) == 1 else {}

    def band(axis, mean, err, color, label):
        axis.plot(centre, mean, color=color, label=label, **style)
        axis.fill_between(centre, mean - err, mean + err, color=color, alpha=0.3, lw=0)
        if len(centre) == 1:  # one bin: show its extent and the error bar
            half = (ds["time_bin_end"].values - ds["time_bin_start"].values) / 2
            axis.errorbar(centre, mean, xerr=half, yerr=err, color=color, capsize=4)

    band(left, ds["score"].values, ds["score_error"].values, COLORS["score"], "model")
    if "null_mean" in ds:
        band(left, ds["null_mean"].values, ds["null_sd"].values, COLORS["image"], "image-shuffled null")
    if "mismatched_score" in ds:
        band(left, ds["mismatched_score"].values, np.zeros(len(centre)), COLORS["temporal"],
             "mismatched bins")
    if np.isfinite(ds["ceiling"].values).any():
        left.plot(centre, np.sqrt(np.clip(ds["ceiling"].values, 0, None)), "k--", lw=1, label="sqrt(ceiling)", **style)
    left.axhline(0, color="k", lw=0.5)
    left.set(xlabel="time after image onset (ms)", ylabel="test r (median over neuroids)",
             title=f"{ds.attrs.get('model', '')} {ds.attrs.get('area', '')} vs "
                   f"{ds.attrs.get('benchmark', '')}")
    left.legend(fontsize=8, loc="best")
    if "alignment_curve" in ds:
        shifts = ds["shift_candidate"].values
        curve, se = ds["alignment_curve"].values, ds["alignment_curve_se"].values
        right.plot(shifts, curve, color=COLORS["score"], marker="o")
        right.fill_between(shifts, curve - se, curve + se, color=COLORS["score"], alpha=0.2, lw=0)
        for chosen in np.unique(ds["shift"].values):
            right.axvline(chosen, color="k", ls=":", lw=1)
        decided = (f"{ds.attrs['shift_best_ms']:g} ms" if ds.attrs.get("shift_identified", 1)
                   else "not identified")
        right.set(xlabel="model-to-neuron shift (ms)", ylabel="inner-CV score (± 1 SE)",
                  title=f"alignment: {decided}")
    else:
        right.axis("off")
        right.text(0.5, 0.5, f"shift fixed at {ds.attrs.get('shift_ms', 0):g} ms", ha="center")
    fig.tight_layout()
    return fig


def save_figure(results: xr.Dataset, path: str | os.PathLike, region=None) -> Path:
    """Write :func:`plot_results` to ``path`` (format from its suffix) atomically."""
    import matplotlib.pyplot as plt

    fig = plot_results(results, region)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=120)
    plt.close(fig)
    return path
