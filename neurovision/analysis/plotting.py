"""Matplotlib helpers for the analysis results; each draws on ``ax`` (new figure if None) and
returns the axes, so figures can be composed and saved by the caller.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

STABILITY_COLOURS = {"stable": "tab:blue", "marginal": "tab:green", "saddle": "tab:orange",
                     "unstable": "tab:red"}
REGIME_COLOURS = {"stable": "tab:blue", "oscillatory": "tab:green", "chaotic": "tab:red"}


def _axes(ax, projection=None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4.5, 4))
    return fig.add_subplot(projection=projection)


def _colormap():
    import matplotlib

    return matplotlib.colormaps["tab10"]


def plot_spectrum(eigenvalues, ax=None, reference=None, boundary: str | None = "imaginary-axis",
                  label: str = "eigenvalues"):
    """Eigenvalues in the complex plane (a :class:`~.spectra.Spectrum` or complex array);
    ``reference`` (e.g. dense ones) as open circles; ``boundary``: ``imaginary-axis`` (stability
    of a vector field), ``unit-circle`` (of a map) or None.
    """
    ax = _axes(ax)
    values = np.asarray(getattr(eigenvalues, "eigenvalues", eigenvalues))
    if reference is not None:
        ref = np.asarray(reference)
        ax.scatter(ref.real, ref.imag, s=30, facecolors="none", edgecolors="0.5", label="reference")
    ax.scatter(values.real, values.imag, s=8, color="tab:purple", label=label)
    if boundary == "imaginary-axis":
        ax.axvline(0.0, color="k", lw=0.8, ls="--")
    elif boundary == "unit-circle":
        angle = np.linspace(0, 2 * np.pi, 400)
        ax.plot(np.cos(angle), np.sin(angle), color="k", lw=0.8, ls="--")
    ax.set_xlabel("real part")
    ax.set_ylabel("imaginary part")
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_fixed_points(result, ax=None, states: np.ndarray | None = None):
    """Fixed/slow points of a search on their top two PCs, coloured by stability; ``states``
    ``(..., n)`` (e.g. trajectories) drawn faintly in the same projection.
    """
    ax = _axes(ax)
    points = np.asarray(result.points)
    if len(points) == 0:
        ax.set_title("no fixed points found")
        return ax
    mean = points.mean(0)
    basis = np.linalg.svd(points - mean, full_matrices=False)[2][:2] if len(points) > 1 else np.eye(2, points.shape[1])
    if states is not None:
        flat = np.asarray(states).reshape(-1, points.shape[1])
        proj = (flat - mean) @ basis.T
        ax.plot(proj[:, 0], proj[:, 1] if proj.shape[1] > 1 else 0 * proj[:, 0], color="0.8", lw=0.5)
    proj = (points - mean) @ basis.T
    kinds = result.table.get("stability", pd.Series(["stable"] * len(points)))
    for kind, colour in STABILITY_COLOURS.items():
        mask = (kinds == kind).to_numpy()
        if mask.any():
            ax.scatter(proj[mask, 0], proj[mask, 1] if proj.shape[1] > 1 else 0 * proj[mask, 0],
                       s=14, color=colour, label=kind)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_attractor(report, ax=None):
    """Points of an :class:`~.attractors.AttractorReport` on their top PCs, titled by kind."""
    ax = _axes(ax)
    proj = report.projection
    if len(proj):
        ax.scatter(proj["pc1"], proj["pc2"] if "pc2" in proj else 0 * proj["pc1"], s=12, color="tab:green")
    ax.set_title(f"{report.kind} ({report.n_points} points)")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def plot_trajectories(projections: xr.DataArray, ax=None, components=(1, 2), color_by: str | None = None):
    """One line per presentation (or per label of ``color_by``) in the plane of two components;
    a dot marks each trajectory's start.
    """
    ax = _axes(ax)
    a, b = (projections.sel(component=c) for c in components)
    labels = projections[color_by].values if color_by else np.arange(projections.sizes["presentation"])
    uniques = list(dict.fromkeys(labels.tolist()))
    cmap = _colormap()
    seen = set()
    for i, value in enumerate(labels.tolist()):
        colour = cmap(uniques.index(value) % 10)
        ax.plot(a[i], b[i], color=colour, lw=1.0, label=str(value) if value not in seen else None)
        ax.plot(a[i][0], b[i][0], "o", color=colour, ms=3)
        seen.add(value)
    ax.set_xlabel(f"PC {components[0]}")
    ax.set_ylabel(f"PC {components[1]}")
    if color_by:
        ax.legend(frameon=False, fontsize=7, title=color_by)
    return ax


def plot_aligned(result, n_conditions: int, ax=None, names=("x", "y")):
    """CCA-aligned trajectories (Fig. 1C): the first two canonical variates of both networks,
    one colour per condition, solid for ``names[0]`` and dashed for ``names[1]``; ``result`` is a
    :class:`~.compare.CCAResult` of ``condition x time`` rows (condition-major).
    """
    ax = _axes(ax)
    cmap = _colormap()
    for scores, style, name in ((result.x_scores, "-", names[0]), (result.y_scores, "--", names[1])):
        paths = scores[:, :2].reshape(n_conditions, -1, 2)
        for c, path in enumerate(paths):
            ax.plot(path[:, 0], path[:, 1], style, color=cmap(c % 10), lw=1.0,
                    label=name if c == 0 else None)
    ax.set_xlabel("canonical variate 1")
    ax.set_ylabel("canonical variate 2")
    ax.set_title(f"mean CC {result.mean_correlation:.2f}", fontsize=8)
    ax.legend(frameon=False, fontsize=7)
    return ax


def plot_regimes(table: pd.DataFrame, ax=None, y: str = "lyapunov_per_s"):
    """``y`` against the gain for each network of a regime sweep, coloured by regime."""
    ax = _axes(ax)
    for regime, colour in REGIME_COLOURS.items():
        rows = table[table["regime"] == regime]
        if len(rows):
            ax.scatter(rows["gain"], rows[y], color=colour, label=regime, s=18)
    if y.startswith("lyapunov"):
        ax.axhline(0.0, color="k", lw=0.8, ls="--")
    ax.set_xlabel("initialisation gain g (variance g^2 / fan-in)")
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_distance_matrix(distances: xr.DataArray, ax=None, label: str | None = None):
    """Heat map of a :func:`~.compare.distance_matrix`; ticks show ``label`` coordinates."""
    ax = _axes(ax)
    image = ax.imshow(distances.values, cmap="viridis")
    ticks = distances[label].values if label else distances["network"].values
    ax.set_xticks(range(len(ticks)), [str(t) for t in ticks], rotation=90, fontsize=6)
    ax.set_yticks(range(len(ticks)), [str(t) for t in ticks], fontsize=6)
    ax.figure.colorbar(image, ax=ax, label=distances.attrs.get("metric", "distance"))
    return ax


def plot_embedding(table: pd.DataFrame, ax=None, hue: str | None = None, marker_by: str | None = None):
    """Networks in a 2-D embedding (:func:`~.compare.embed`), coloured by ``hue`` and marked by
    ``marker_by`` columns.
    """
    ax = _axes(ax)
    markers = "osD^v<>Px*"
    hues = list(dict.fromkeys(table[hue])) if hue else [None]
    kinds = list(dict.fromkeys(table[marker_by])) if marker_by else [None]
    cmap = _colormap()
    for h_i, h in enumerate(hues):
        for k_i, k in enumerate(kinds):
            mask = np.ones(len(table), dtype=bool)
            if hue:
                mask &= (table[hue] == h).to_numpy()
            if marker_by:
                mask &= (table[marker_by] == k).to_numpy()
            if mask.any():
                label = " / ".join(str(v) for v in (h, k) if v is not None) or None
                ax.scatter(table["dim1"][mask], table["dim2"][mask], color=cmap(h_i % 10),
                           marker=markers[k_i % len(markers)], label=label, s=24)
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    if hue or marker_by:
        ax.legend(frameon=False, fontsize=6)
    return ax
