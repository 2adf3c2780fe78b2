"""Compare Pathfinder runs beyond their training horizon: accuracy, state space, KS tests.

Reads the folders written by :func:`neurovision.families.recurrent.pathfinder_run.train_pathfinder`
(``metrics.json`` and ``pooled_states.pt``) and writes ``state_space.json`` and
``state_space.png`` into ``out``: per run the accuracy at its training horizon N and at the
last evaluated step T, the drift of every test image's pooled state from N to T (in units of the
spread of the states at t <= N), a KS test of the first principal component at N vs T, and for
every pair of runs a KS test that the first drifts more than the second.
"""
from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path

import numpy as np

from ...errors import DataError
from ...io import atomic_path, load_torch
from .state_drift import drift, ks_drift, ks_stay_put, state_space


def _load(folder: Path) -> dict:
    metrics_path, states_path = folder / "metrics.json", folder / "pooled_states.pt"
    if not (metrics_path.is_file() and states_path.is_file()):
        raise DataError(f"{folder} lacks metrics.json or pooled_states.pt; run `neurovision train recurrent pathfinder` first")
    metrics = json.loads(metrics_path.read_text())
    pooled = load_torch(states_path)["pooled"].float().numpy()
    return {"name": folder.name, "metrics": metrics, "pooled": pooled, "steps": int(metrics["run"]["steps"])}


def state_space_report(folders: list[Path], out: Path) -> dict:
    """Analyse the runs in ``folders``; write ``state_space.json`` and a figure into ``out``."""
    runs = [_load(Path(f)) for f in folders]
    report: dict = {"runs": {}, "pairs": {}}
    drifts, spaces = {}, {}
    for r in runs:
        n, t = r["steps"], r["pooled"].shape[0]
        space = state_space(r["pooled"], n)
        d = drift(r["pooled"], n, t)
        acc = r["metrics"]["accuracy_by_step"]
        drifts[r["name"]], spaces[r["name"]] = d, space
        report["runs"][r["name"]] = {
            "algorithm": r["metrics"]["run"]["algorithm"], "train_steps": n, "eval_steps": t,
            "accuracy_at_train_steps": acc[n - 1], "accuracy_at_eval_steps": acc[t - 1],
            "drift_median": float(np.median(d)), "drift_mean": float(np.mean(d)),
            "stay_put": ks_stay_put(space.projected, n, t),
            "explained_variance": [float(v) for v in space.pca.explained_variance_ratio_],
        }
    for a, b in permutations(drifts, 2):
        report["pairs"][f"{a} > {b}"] = ks_drift(drifts[a], drifts[b])
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "state_space.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    _figure(runs, spaces, out / "state_space.png")
    return report


def _figure(runs, spaces, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs) + 1, figsize=(4 * (len(runs) + 1), 3.6))
    for r in runs:
        acc = r["metrics"]["accuracy_by_step"]
        line = axes[0].plot(range(1, len(acc) + 1), acc, label=r["name"])[0]
        axes[0].axvline(r["steps"], color=line.get_color(), ls=":", lw=1)
    dataset = runs[0]["metrics"]["run"]["dataset"]
    axes[0].set(xlabel="recurrent step", ylabel="test accuracy", ylim=(0.0, 1.0), title=f"{dataset}: accuracy by step")
    axes[0].legend(fontsize=7)
    for ax, r in zip(axes[1:], runs):
        proj, n = spaces[r["name"]].projected, r["steps"]
        ax.hist2d(proj[..., 0].ravel(), proj[..., 1].ravel(), bins=60, cmap="Greys")
        ax.scatter(proj[:n, :, 0].ravel(), proj[:n, :, 1].ravel(), s=1, c="tab:red", alpha=0.2, label=f"t <= {n}")
        ax.scatter(proj[n:, :, 0].ravel(), proj[n:, :, 1].ravel(), s=1, c="tab:blue", alpha=0.1, label=f"t > {n}")
        ax.plot(proj[:, 0, 0], proj[:, 0, 1], c="gold", lw=1.5, label="one image")
        ax.set(title=r["name"], xlabel="PC 1", ylabel="PC 2")
        ax.legend(fontsize=6, markerscale=5)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
