"""Figures of the DCN experiments (matplotlib, written as PNG through atomic files)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...io import atomic_path


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _axes(ncols: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.2), squeeze=False)


def completion_figure(curves: dict[str, dict], path: Path) -> Path:
    """D(t) (mean +- std over images) within block 1, one line per model."""
    fig, ax = _axes()
    ax = ax[0, 0]
    for name, c in curves.items():
        t, mean, std = np.asarray(c["depth_times"]), np.asarray(c["mean"]), np.asarray(c["std"])
        ax.plot(t / t[-1], mean, label=name)
        ax.fill_between(t / t[-1], mean - std, mean + std, alpha=0.2)
    ax.set(xlabel="depth-time t / T (ODE block 1)", ylabel="D(t)", title="masked vs intact feature maps")
    ax.legend()
    return _save(fig, path)


def contrast_figure(sweeps: dict[str, list[dict]], path: Path) -> Path:
    """Accuracy, NFE of block 1 and total NFE against contrast, naive and time-rescaled."""
    fig, axes = _axes(3)
    for name, rows in sweeps.items():
        c = [r["contrast"] for r in rows]
        for mode, style in (("naive", "-"), ("rescaled", "--")):
            acc = [r[mode]["accuracy"] for r in rows]
            nfe = [r[mode]["nfe_per_block"] for r in rows]
            axes[0, 0].plot(c, acc, style, marker="o", label=f"{name} ({mode})")
            axes[0, 1].plot(c, [n[0] for n in nfe], style, marker="o", label=f"{name} ({mode})")
            axes[0, 2].plot(c, [sum(n) for n in nfe], style, marker="o", label=f"{name} ({mode})")
    for ax, label in zip(axes[0], ("accuracy (%)", "NFE, ODE block 1", "NFE, all blocks")):
        ax.set(xscale="log", xlabel="contrast c", ylabel=label)
    axes[0, 0].legend(fontsize=7)
    return _save(fig, path)


def scales_figure(scales: dict[str, float], distribution: dict[str, dict] | None, path: Path) -> Path:
    """Learned sigma per SRF layer against depth and, if given, sigma^ji histograms per block."""
    fig, axes = _axes(2 if distribution else 1)
    names = list(scales)
    axes[0, 0].plot(range(len(names)), [scales[n] for n in names], marker="o")
    axes[0, 0].set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    axes[0, 0].set(ylabel="learned scale sigma (px)", title="scale against depth")
    if distribution:
        from scipy import stats

        ax = axes[0, 1]
        for name, d in distribution.items():
            s = np.asarray(d["sigmas"])
            ax.hist(s, bins=40, density=True, histtype="step", label=f"{name} (skew {d['skewness']:.2f})")
            grid = np.linspace(s.min(), s.max(), 200)
            ax.plot(grid, stats.lognorm.pdf(grid, d["lognormal_shape"], 0.0, d["lognormal_median"]), lw=0.8)
        ax.set(xlabel="sigma^ji (px)", ylabel="density", title="per-filter scales, log-normal fits")
        ax.legend(fontsize=7)
    return _save(fig, path)
