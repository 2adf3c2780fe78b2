"""Fixed points of a trained back-end per task condition, with the linearised dynamics there.

For each condition (e.g. each signed coherence), the drive is held at the condition's mean
back-end input over a window of its trials (e.g. the motion period), the network's private noise
is switched off, and :func:`neurovision.analysis.fixed_points.find_fixed_points` searches from
states the network visited in those trials (plus small jitter). Every unique point is reported
with its kind (``fixed``: relative step ``||F(x) - x|| / max(||x||, 1)`` below ``tol``; ``slow``:
below ``slow_tol``; otherwise the search did **not** converge and only the best residual is
reported), its stability and the ``n_eigs`` rightmost eigenvalues of the continuous-time
Jacobian (1/ms) with their time constants ``-1 / Re(lambda)`` (ms) and the share of each area
in the leading eigenvector.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import torch

from ..analysis.fixed_points import NonConvergenceWarning, find_fixed_points
from ..analysis.maps import StepMap, batch_jacobians
from ..errors import DataError


def window_mask(table: pd.DataFrame, n_steps: int, start: str, end: str | None = None) -> np.ndarray:
    """(N, T) bool: steps from column ``start`` to column ``end`` (default each trial's length)."""
    first = table[start].to_numpy()[:, None]
    last = table[end or "length"].to_numpy()[:, None]
    steps = np.arange(n_steps)[None, :]
    return (steps >= first) & (steps < last)


def condition_fixed_points(backend, inputs: torch.Tensor, rates: dict, window: np.ndarray,
                           n_initial: int = 32, jitter: float = 0.05, n_eigs: int = 5,
                           max_iter: int = 1500, seed: int = 0, **search) -> dict:
    """Fixed points of ``backend`` (noise off) under the mean of ``inputs`` (N, T, n_in) over
    ``window`` (N, T), searched from ``n_initial`` states of ``rates`` {area: (N, T, U)} in the
    window (+ Gaussian ``jitter``). Returns a JSON-ready dict."""
    if window.sum() < 1:
        raise DataError("the window holds no step of these trials")
    quiet = copy.deepcopy(backend).eval()
    quiet.noise_std = 0.0
    drive = inputs[torch.from_numpy(window)].float().mean(0)
    fmap = StepMap(quiet, drive)
    states = torch.cat([torch.as_tensor(rates[a])[torch.from_numpy(window)] for a in quiet.areas], 1).float()
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randint(len(states), (n_initial,), generator=gen)
    start = states[pick] + jitter * torch.randn(n_initial, states.shape[1], generator=gen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonConvergenceWarning)  # reported in the result instead
        result = find_fixed_points(fmap, start, max_iter=max_iter, n_eigs=n_eigs, **search)
    sizes = [quiet.specs[a].units for a in quiet.areas]
    points = []
    for p, row in result.table.iterrows():
        lam = result.eigenvalues[p][:n_eigs]
        entry = {"kind": row["kind"], "relative_step": float(row["relative_step"]),
                 "n_members": int(row["n_members"]), "stability": row.get("stability"),
                 "eigenvalues_per_ms": [[float(v.real), float(v.imag)] for v in lam],
                 "time_constants_ms": [float(-1 / v.real) if v.real < 0 else float("inf") for v in lam],
                 "norm_per_area": dict(zip(quiet.areas, (float(np.linalg.norm(x)) for x in
                                                         np.split(result.points[p], np.cumsum(sizes)[:-1]))))}
        entry["leading_mode_area_share"] = _mode_share(fmap, result.points[p], quiet.areas, sizes)
        points.append(entry)
    kinds = result.candidates["kind"].value_counts().to_dict()
    return {"converged": bool((result.candidates["kind"] == "fixed").any()),
            "best_relative_step": float(result.candidates["relative_step"].min()),
            "tol": result.settings["tol"], "slow_tol": result.settings["slow_tol"],
            "candidates": {k: int(v) for k, v in kinds.items()}, "points": points}


def _mode_share(fmap, point: np.ndarray, areas, sizes) -> dict:
    """Fraction of the leading eigenvector's squared norm in each area."""
    x = torch.as_tensor(point, dtype=fmap.dtype)[None]
    jac = batch_jacobians(fmap, x)[0].double()
    values, vectors = torch.linalg.eig(jac)
    lead = vectors[:, int(torch.argmax(values.real))].abs() ** 2
    parts = torch.split(lead / lead.sum(), sizes)
    return {a: float(p.sum()) for a, p in zip(areas, parts)}


def fixed_points_by_condition(backend, trials, rates: dict, condition: str, start: str,
                              end: str | None = None, **kwargs) -> dict:
    """:func:`condition_fixed_points` for each value of ``trials.info[condition]``, over the
    window from column ``start`` to ``end`` (default the trial's end); ``{value: result}``."""
    table = trials.info.reset_index(drop=True)
    if condition not in table:
        raise DataError(f"the trials have no column {condition!r}; they have {list(table.columns)}")
    window = window_mask(table, trials.inputs.shape[1], start, end)
    out = {}
    for value in sorted(table[condition].unique()):
        rows = (table[condition] == value).to_numpy()
        key = str(value + 0.0) if isinstance(value, float) else str(value)  # -0.0 -> "0.0"
        out[key] = condition_fixed_points(
            backend, trials.inputs[rows], {a: r[rows] for a, r in rates.items()}, window[rows], **kwargs)
    return out


def report_fixed_points(folder, out=None, condition: str | None = None, start: str | None = None,
                        **kwargs) -> dict:
    """Fixed points of a finished train-task run per condition, written to ``fixed_points.json``
    in ``out`` (default the run folder). ``condition`` and the window's ``start`` column default
    to the task's ``report_condition`` and ``report_align``; the window runs to each trial's end."""
    import json
    from pathlib import Path

    from ..io import atomic_path
    from .evaluation import run_network
    from .experiment import evaluation_trials, load_run, run_cache_dir

    run, env, model = load_run(folder)
    condition = condition or getattr(env, "report_condition", None)
    start = start or getattr(env, "report_align", None)
    if condition is None or start is None:
        raise DataError(f"task {run.task!r} names no report condition; give condition= and start= "
                        "(a trial column and a '<period>_start' column)")
    backend = getattr(model, "backend", model)
    trials = evaluation_trials(run, env, model, run_cache_dir(folder))
    rates = {a: r.numpy() for a, r in run_network(backend, trials.inputs, record=True, seed=run.seed).rates.items()}
    result = {"task": run.task, "condition": condition, "window_start": start, "dt_ms": trials.dt,
              "areas": {a: {"units": backend.specs[a].units, "tau_ms": backend.specs[a].tau} for a in backend.areas},
              "conditions": fixed_points_by_condition(backend, trials, rates, condition, start, **kwargs)}
    dest = Path(out) if out is not None else Path(folder)
    with atomic_path(dest / "fixed_points.json") as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    return result
