"""Fixed and slow points of a stepped model, found by minimising the speed (Sussillo & Barak 2013).

From many initial states ``x`` the search minimises ``q(x) = 1/2 ||F(x) - x||^2`` (``F``: one
step under a fixed drive) with Adam, all states at once, then refines small systems with
Levenberg-Marquardt steps on ``F(x) - x = 0``. A final state is

* ``fixed``  if ``||F(x) - x|| <= tol * max(||x||, 1)``,
* ``slow``   if it is only below ``slow_tol`` on the same scale (a slow point),
* ``not converged`` otherwise, and ``diverged`` if the map produced NaN/Inf.

Fixed and slow points are de-duplicated and classified from the eigenvalues ``lambda`` of the
continuous-time Jacobian ``(J_F - I) / dt`` (1/ms): ``stable`` (all ``Re lambda < -m``),
``marginal`` (none above ``m`` but some within ``+-m``: a continuous attractor direction),
``saddle`` (some above ``m``, some below) or ``unstable``; ``m`` = ``marginal_tol``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..errors import DataError, ShapeError
from .maps import as_step_map, batch_jacobians, jacobian_operator
from .operators import check_finite
from .spectra import arnoldi_eigs


class NonConvergenceWarning(UserWarning):
    """A fixed-point search ended with states that are not fixed points."""


@dataclass
class FixedPointResult:
    """What a search found.

    ``points`` ``(P, n)``: unique fixed and slow points; ``table``: one row per point
    (``kind``, ``speed`` in state units/ms, ``relative_step``, ``n_members``, ``stability``,
    ``n_unstable``, ``n_marginal``, ``leading_real``, ``leading_imag`` in 1/ms);
    ``candidates``: one row per initial state (``speed``, ``relative_step``, ``kind``,
    ``point`` index or -1, ``iterations``); ``final_states`` ``(B, n)``; ``eigenvalues``
    ``(P, k)`` complex continuous-time eigenvalues (1/ms, rightmost first, NaN-padded).
    """

    points: np.ndarray
    table: pd.DataFrame
    candidates: pd.DataFrame
    final_states: np.ndarray = field(repr=False)
    eigenvalues: np.ndarray = field(repr=False)
    settings: dict = field(default_factory=dict)

    @property
    def fixed(self) -> np.ndarray:
        """``(F, n)`` the points that met the fixed-point tolerance."""
        return self.points[(self.table["kind"] == "fixed").to_numpy()]

    def summary(self) -> str:
        """One line: how many initial states ended in each kind, and the best residual."""
        counts = self.candidates["kind"].value_counts().to_dict()
        finite = self.candidates["relative_step"].replace(np.inf, np.nan)
        best = float(finite.min()) if finite.notna().any() else float("nan")
        return (f"{len(self.candidates)} initial states: "
                + ", ".join(f"{v} {k}" for k, v in counts.items())
                + f"; {len(self.points)} unique fixed/slow points; best relative step {best:.3g}")

    def to_dataset(self) -> xr.Dataset:
        """The result as an :class:`xarray.Dataset` (complex eigenvalues as real/imag parts)."""
        table = self.table.reset_index(drop=True)
        cand = self.candidates.reset_index(drop=True)
        data = {f"point_{c}": ("point", table[c].to_numpy()) for c in table.columns}
        data.update({f"candidate_{c}": ("candidate", cand[c].to_numpy()) for c in cand.columns})
        data["points"] = (("point", "unit"), self.points)
        data["final_states"] = (("candidate", "unit"), self.final_states)
        data["eigenvalue_real"] = (("point", "eig"), self.eigenvalues.real)
        data["eigenvalue_imag"] = (("point", "eig"), self.eigenvalues.imag)
        return xr.Dataset(data, attrs={k: v for k, v in self.settings.items() if v is not None})


def initial_states(x, fmap) -> torch.Tensor:
    """``(B, n)`` starting states from a tensor or a state dict, checked finite."""
    if isinstance(x, dict):
        x = fmap.flatten(x) if hasattr(fmap, "flatten") else None
        if x is None:
            raise ShapeError("state dicts need a StepMap; give a (B, n) tensor for this map")
    x = torch.as_tensor(x).detach().to(fmap.device, fmap.dtype)
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.dim() != 2 or x.shape[1] != fmap.n or x.shape[0] == 0:
        raise ShapeError(f"initial states must have shape (B, {fmap.n}) with B >= 1, got {tuple(x.shape)}")
    check_finite(x, "the initial states")
    return x.clone()


def _residual(fmap, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return fmap(x) - x


def _scale(x: torch.Tensor) -> torch.Tensor:
    return x.norm(dim=1).clamp_min(1.0)


def _minimise(fmap, x, tol, max_iter, lr, betas=(0.9, 0.999), eps=1e-12):
    """Adam on ``q(x_b)`` for each row; rows below ``tol`` or non-finite stop moving.

    The step size halves whenever the summed speed has not improved by 0.1% for 50
    iterations. Returns the states and the number of iterations each row moved.
    """
    x = x.clone()
    m1, m2 = torch.zeros_like(x), torch.zeros_like(x)
    iterations = torch.zeros(x.shape[0], dtype=torch.long)
    best, stall = np.inf, 0
    for it in range(1, max_iter + 1):
        x.requires_grad_(True)
        g = fmap(x) - x
        norm = g.detach().norm(dim=1)
        active = torch.isfinite(norm) & (norm > tol * _scale(x.detach()))
        if not bool(active.any()):
            x = x.detach()
            break
        loss = 0.5 * (g[active] ** 2).sum()
        (grad,) = torch.autograd.grad(loss, x)
        x = x.detach()
        with torch.no_grad():
            m1.mul_(betas[0]).add_((1 - betas[0]) * grad)
            m2.mul_(betas[1]).add_((1 - betas[1]) * grad * grad)
            update = lr * (m1 / (1 - betas[0] ** it)) / ((m2 / (1 - betas[1] ** it)).sqrt() + eps)
            x[active] -= update[active]
        iterations[active] += 1
        total = float(loss.detach())
        if total < best * (1 - 1e-3):
            best, stall = total, 0
        else:
            stall += 1
            if stall >= 50:
                lr, stall = 0.5 * lr, 0
    return x.detach(), iterations


def _refine(fmap, x, tol, steps: int = 30):
    """Levenberg-Marquardt on ``G(x) = F(x) - x`` with dense batched Jacobians."""
    g = _residual(fmap, x)
    finite = torch.isfinite(g).all(dim=1)
    mu = torch.full((x.shape[0],), 1e-3, dtype=x.dtype, device=x.device)
    eye = torch.eye(fmap.n, dtype=x.dtype, device=x.device)
    for _ in range(steps):
        norm = g.norm(dim=1)
        todo = finite & (norm > 0.01 * tol * _scale(x))
        if not bool(todo.any()):
            break
        xs, gs = x[todo], g[todo]
        jac = batch_jacobians(fmap, xs) - eye
        normal = jac.transpose(1, 2) @ jac
        damp = mu[todo, None, None] * normal.diagonal(dim1=1, dim2=2).mean(1)[:, None, None].clamp_min(1e-12)
        rhs = -(jac.transpose(1, 2) @ gs.unsqueeze(-1))
        step = torch.linalg.solve(normal + damp * eye, rhs).squeeze(-1)
        trial = xs + step
        g_trial = _residual(fmap, trial)
        better = torch.isfinite(g_trial).all(1) & (g_trial.norm(dim=1) < gs.norm(dim=1))
        idx = torch.nonzero(todo).squeeze(1)
        x[idx[better]], g[idx[better]] = trial[better], g_trial[better]
        mu[idx[better]] *= 0.3
        mu[idx[~better]] *= 4.0
    return x


def _deduplicate(x: np.ndarray, order: np.ndarray, radius: float) -> tuple[list[int], np.ndarray]:
    """Greedy clustering in ``order``: returns representatives and each row's cluster (-1: none)."""
    reps: list[int] = []
    member = -np.ones(len(x), dtype=int)
    for i in order:
        if reps:
            dist = np.linalg.norm(x[reps] - x[i], axis=1)
            j = int(np.argmin(dist))
            if dist[j] <= radius:
                member[i] = j
                continue
        member[i] = len(reps)
        reps.append(int(i))
    return reps, member


def point_eigenvalues(fmap, points: torch.Tensor, n_eigs: int = 20, dense_max_n: int = 1024) -> list[np.ndarray]:
    """Continuous-time Jacobian eigenvalues (1/ms) at each of ``points`` ``(P, n)`` (or one
    ``(n,)``), rightmost first: all ``n`` when ``n <= dense_max_n`` (batched dense Jacobians),
    else the ``n_eigs`` rightmost by Arnoldi on Jacobian-vector products.
    """
    points = points.reshape(-1, fmap.n)
    if fmap.n <= dense_max_n:
        chunk = max(1, 4096 // fmap.n)
        mus = []
        for start in range(0, len(points), chunk):
            jac = batch_jacobians(fmap, points[start : start + chunk]).double()
            mus.extend(torch.linalg.eigvals(jac).numpy())
    else:
        k = min(n_eigs, fmap.n)
        mus = [arnoldi_eigs(jacobian_operator(fmap, p), k=k, which="LR").eigenvalues for p in points]
    out = []
    for mu in mus:
        lam = (mu - 1.0) / fmap.dt
        out.append(lam[np.argsort(-lam.real, kind="stable")])
    return out


def classify_stability(lam: np.ndarray, marginal_tol: float) -> tuple[str, int, int]:
    """``(stability, n_unstable, n_marginal)`` from continuous-time eigenvalues ``lam``."""
    lam = lam[np.isfinite(lam)]
    unstable = int(np.sum(lam.real > marginal_tol))
    marginal = int(np.sum(np.abs(lam.real) <= marginal_tol))
    if unstable:
        kind = "saddle" if unstable < len(lam) else "unstable"
    else:
        kind = "marginal" if marginal else "stable"
    return kind, unstable, marginal


def find_fixed_points(
    system,
    initial,
    stimulus: torch.Tensor | None = None,
    tol: float | None = None,
    slow_tol: float = 1e-3,
    max_iter: int = 2000,
    lr: float | None = None,
    refine_max_n: int = 512,
    dedup: float = 1e-3,
    stability: bool = True,
    n_eigs: int = 20,
    dense_max_n: int = 1024,
    marginal_tol: float = 1e-3,
    warmup: int = 0,
) -> FixedPointResult:
    """Search fixed and slow points of ``system`` from the ``initial`` states ``(B, n)``.

    ``system``: a SteppedModel (with ``stimulus`` shown, or blank), a :class:`StepMap` or a
    :class:`FunctionMap`. ``tol`` (default ``100 * eps`` of the model's dtype) and
    ``slow_tol`` bound ``||F(x) - x|| / max(||x||, 1)``; ``lr`` defaults to 1% of the RMS of the
    initial states; ``dedup`` is the merge radius relative to ``max(median ||x||, 1)``.
    ``warmup`` steps of the dynamics are run from the initial states first, so that the
    search starts near the attractors the model visits (speed minimisation also finds
    unstable fixed points, which random starting states often reach first).
    Never raises for states that do not converge: they are reported as such (with a
    :class:`NonConvergenceWarning` when no state reached ``tol``).
    """
    fmap = as_step_map(system, stimulus)
    x0 = initial_states(initial, fmap)
    with torch.no_grad():
        for _ in range(warmup):
            x0 = fmap(x0)
    check_finite(x0, f"the states after {warmup} warm-up steps")
    tol = float(tol if tol is not None else 100 * torch.finfo(fmap.dtype).eps)
    if not 0 < tol <= slow_tol:
        raise ValueError(f"need 0 < tol <= slow_tol, got tol={tol}, slow_tol={slow_tol}")
    rms = float(x0.pow(2).mean().sqrt())
    lr = lr if lr is not None else 1e-2 * max(rms, 1e-2)
    x, iterations = _minimise(fmap, x0, tol, max_iter, lr)
    if fmap.n <= refine_max_n:
        x = _refine(fmap, x, tol)
    g = _residual(fmap, x)
    norm = g.norm(dim=1)
    rel = (norm / _scale(x)).cpu().numpy()
    rel[~np.isfinite(rel)] = np.inf
    kind = np.where(rel <= tol, "fixed", np.where(rel <= slow_tol, "slow", "not converged"))
    kind = np.where(np.isfinite(rel), kind, "diverged")
    states = x.cpu().double().numpy()
    keep = np.flatnonzero(np.isin(kind, ("fixed", "slow")))
    radius = dedup * max(float(np.median(np.linalg.norm(states[keep], axis=1))) if len(keep) else 1.0, 1.0)
    reps, member = _deduplicate(states, keep[np.argsort(rel[keep], kind="stable")], radius)
    candidates = pd.DataFrame({
        "speed": (norm / fmap.dt).cpu().double().numpy(), "relative_step": rel, "kind": kind,
        "point": member, "iterations": iterations.numpy(),
    }).rename_axis("candidate")
    candidates.loc[~np.isfinite(candidates["speed"]), "speed"] = np.inf
    table, eigs = _point_table(fmap, x, reps, member, candidates, stability, n_eigs,
                               dense_max_n, marginal_tol)
    result = FixedPointResult(
        points=states[reps].reshape(len(reps), fmap.n), table=table, candidates=candidates,
        final_states=states, eigenvalues=eigs,
        settings={"tol": tol, "slow_tol": slow_tol, "dt_ms": fmap.dt, "marginal_tol": marginal_tol,
                  "max_iter": max_iter, "dedup_radius": radius},
    )
    if not (kind == "fixed").any():
        warnings.warn(
            "no initial state converged to a fixed point within tol="
            f"{tol:g}: {result.summary()}. The states and their residuals are in the result; "
            "raise max_iter, loosen tol, or start from states visited by the model.",
            NonConvergenceWarning, stacklevel=2,
        )
    return result


def _point_table(fmap, x, reps, member, candidates, stability, n_eigs, dense_max_n, marginal_tol):
    table = candidates.iloc[reps][["kind", "speed", "relative_step"]].reset_index(drop=True)
    table["n_members"] = [int(np.sum(member == p)) for p in range(len(reps))]
    spectra = point_eigenvalues(fmap, x[reps], n_eigs, dense_max_n) if stability and reps else []
    if stability:
        labels = [classify_stability(lam, marginal_tol) for lam in spectra]
        table["stability"] = [lab[0] for lab in labels]
        table["n_unstable"] = [lab[1] for lab in labels]
        table["n_marginal"] = [lab[2] for lab in labels]
        table["leading_real"] = [float(lam[0].real) for lam in spectra]
        table["leading_imag"] = [float(abs(lam[0].imag)) for lam in spectra]
    width = max((len(s) for s in spectra), default=0)
    eigs = np.full((len(reps), width), np.nan + 1j * np.nan)
    for p, lam in enumerate(spectra):
        eigs[p, : len(lam)] = lam
    return table.rename_axis("point"), eigs


def sample_visited_states(model, stimuli, schedule, n: int, noise: float = 0.0, seed: int = 0,
                          keys=None, state=None) -> torch.Tensor:
    """``(n, d)`` states visited while ``model`` runs ``schedule`` (random steps and trials)
    from ``state`` (default: its initial state), plus Gaussian noise of standard deviation
    ``noise``: starting points for a search. ``keys``: state entries to keep (default all).
    """
    from ..dynamics.runner import integrate

    if n < 1:
        raise DataError(f"n={n}: ask for at least one state")
    gen = torch.Generator().manual_seed(seed)
    visited = []
    with torch.no_grad():
        template = model.initial_state(1)
        use = tuple(keys) if keys is not None else tuple(template)
        for _, _, now in integrate(model, stimuli, schedule, state=state):
            visited.append(torch.cat([now[k].reshape(now[k].shape[0], -1) for k in use], 1))
    pool = torch.cat(visited)
    pick = torch.randint(len(pool), (n,), generator=gen)
    out = pool[pick].clone()
    return out + noise * torch.randn(out.shape, generator=gen, dtype=out.dtype) if noise else out
