"""Attractors that hold working memory in trained networks (CordsNet paper Fig. 1D, App. B.4).

A network (by default CordsNet's area as a task RNN, :class:`~.cross_architecture.ConvTaskRNN`)
is trained on a task whose answer must be held through a delay; then the fixed and slow points
of its dynamics under the delay-period input are searched from the states it visits during the
delay, and :func:`~.attractors.characterise_attractor` says what they form:

* ``memory-pro`` (task plugin ``tasks/memory_pro``): a circular variable -> a ring attractor;
* ``parametric-working-memory``: a scalar frequency -> a line attractor;
* ``perceptual-decision-making`` with a delay: a binary choice -> discrete attractors.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ...analysis.attractors import characterise_attractor
from ...analysis.fixed_points import FixedPointResult, find_fixed_points
from ...analysis.maps import StepMap
from ...analysis.results import save_result
from ...backend.evaluation import run_network
from ...backend.trials import Trials, draw_trials
from ...errors import ScheduleError
from ...io import atomic_path
from ...registry import load_task
from .cross_architecture import ExperimentConfig, train_network


def _timing(delay, fixed: dict | None = None) -> dict:
    """Task timing (ms): ``fixed`` periods and, if given, a delay drawn uniformly in ``delay = (lo, hi)``."""
    return {**(fixed or {}), **({"delay": ("uniform", tuple(delay))} if delay is not None else {})}


#: task -> (the attractor expected to hold its memory, a builder ``(seed, dt, delay) -> env``;
#: ``delay``: None for the task's own delay, or ``(lo, hi)`` ms for a uniformly drawn one)
MEMORY_TASKS = {
    "memory-pro": ("ring", lambda seed, dt, delay=None: load_task(
        "memory-pro", seed=seed, dt=dt, timing=_timing(delay))),
    "parametric-working-memory": ("line", lambda seed, dt, delay=None: load_task(
        "parametric-working-memory", seed=seed, dt=dt, timing=_timing(delay))),
    "perceptual-decision-making": ("discrete", lambda seed, dt, delay=None: load_task(
        "perceptual-decision-making", seed=seed, dt=dt, timing=_timing(delay, {"stimulus": 400, "delay": 600}))),
}


def delay_states(model, trials: Trials, seed: int = 0) -> tuple[np.ndarray, torch.Tensor]:
    """States visited during each trial's delay ``(trials, steps, units)`` (the last 2/3 of it,
    after the stimulus response has settled) and the mean delay-period input ``(n_inputs,)``."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        rates = next(iter(run_network(model, trials.inputs, record=True).rates.values())).numpy()
    start = int(trials.info["delay_start"].min())
    end = int(trials.info["delay_end"].min())
    keep = slice(start + (end - start) // 3, end)
    return rates[:, keep], trials.inputs[:, start:end].mean((0, 1))


def delay_fixed_points(model, trials: Trials, n_states: int = 200, seed: int = 0, **kwargs) -> FixedPointResult:
    """Fixed and slow points of ``model`` (noise off) under the delay input, searched from
    ``n_states`` states it visits during the delay; ``kwargs`` go to :func:`find_fixed_points`."""
    quiet = _without_noise(model)
    visited, delay_input = delay_states(quiet, trials, seed)
    pool = torch.as_tensor(visited.reshape(-1, visited.shape[-1]), dtype=torch.float32)
    pick = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:n_states]
    fmap = StepMap(quiet, stimulus=delay_input)
    options = {"slow_tol": 1e-3, "max_iter": 1500, **kwargs}
    return find_fixed_points(fmap, pool[pick].reshape(len(pick), -1).to(fmap.dtype), **options)


def slowest_point(result: FixedPointResult) -> dict:
    """Stability counts of all unique points (e.g. ``"39 saddle"``) and the rightmost
    eigenvalue (1/s; imaginary part >= 0) of the slowest one; empty if none was found."""
    table = result.table
    if table.empty or "stability" not in table:
        return {}
    counts = table["stability"].value_counts()
    slowest = table.loc[table["speed"].idxmin()]
    return {"stability": ", ".join(f"{n} {kind}" for kind, n in counts.items()),
            "slowest_leading_real_per_s": 1000.0 * float(slowest["leading_real"]),
            "slowest_leading_imag_per_s": 1000.0 * float(slowest["leading_imag"])}


def _without_noise(model):
    """``model`` with its private noise switched off (a shallow copy; weights shared)."""
    import copy

    quiet = copy.copy(model)
    quiet.noise_std = 0.0
    return quiet


def run(out: str | Path, architecture: str = "cordsnet", steps: int = 1500, seed: int = 0,
        tasks=tuple(MEMORY_TASKS), config: ExperimentConfig | None = None,
        delay: tuple[float, float] | None = None) -> pd.DataFrame:
    """Train one network per memory task, find its delay-period attractor and write
    ``attractors.csv``, ``<task>_fixed_points.nc`` and ``attractors.png`` to ``out``.
    ``delay``: ``(lo, hi)`` ms to draw every trial's delay from (default: each task's own)."""
    if delay is not None and not 0 < delay[0] <= delay[1]:
        raise ScheduleError(f"delay={delay}: need 0 < lo <= hi (ms)")
    out = Path(out)
    (out / "networks").mkdir(parents=True, exist_ok=True)
    config = replace(config or ExperimentConfig(), steps=steps)
    rows, panels = [], []
    for task in tasks:
        expected, builder = MEMORY_TASKS[task]
        model, accuracy = train_network(task, architecture, seed, config, out / "networks",
                                        make_env=lambda s, b=builder: b(s, config.dt, delay))
        trials = draw_trials(builder(20_000 + seed, config.dt, delay), 240)
        result = delay_fixed_points(model, trials, seed=seed)
        report = characterise_attractor(result)
        save_result(result, out / f"{task}_fixed_points.nc")
        counts = result.candidates["kind"].value_counts()
        rows.append({"task": task, "architecture": architecture, "accuracy": accuracy,
                     "expected": expected, "found": report.kind, "n_points": report.n_points,
                     "fixed": int(counts.get("fixed", 0)), "slow": int(counts.get("slow", 0)),
                     "not_converged": int(counts.get("not converged", 0)), **slowest_point(result),
                     **{k: v for k, v in report.details.items() if np.isscalar(v)}})
        panels.append((task, model, trials, result, report))
    table = pd.DataFrame(rows)
    with atomic_path(out / "attractors.csv") as tmp:
        table.to_csv(tmp, index=False)
    _figure(panels, out / "attractors.png")
    return table


def _figure(panels, path: Path) -> None:
    """Delay trajectories and attractor points of each task on the trajectories' top two PCs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), squeeze=False)
    for ax, (task, model, trials, result, report) in zip(axes[0], panels):
        visited, _ = delay_states(_without_noise(model), trials)
        flat = visited.reshape(-1, visited.shape[-1])
        mean = flat.mean(0)
        basis = np.linalg.svd(flat - mean, full_matrices=False)[2][:2]
        for path_ in visited[:60]:
            proj = (path_ - mean) @ basis.T
            ax.plot(proj[:, 0], proj[:, 1], color="0.75", lw=0.6)
        if len(result.points):
            proj = (result.points - mean) @ basis.T
            ax.scatter(proj[:, 0], proj[:, 1], s=10, color="tab:green", zorder=3)
        ax.set_title(f"{task}\n{report.kind} ({report.n_points} points)", fontsize=9)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
