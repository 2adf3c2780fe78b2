"""The largest Lyapunov exponent, estimated numerically (Benettin et al. 1980).

A tangent vector ``v`` is carried along a trajectory by Jacobian-vector products of the step
map, ``v <- J_F(x) v``, and renormalised every ``renorm_every`` steps; the exponent is the
average growth rate ``sum log ||v|| / (steps * dt)`` (per unit of model time: 1/ms for models,
so multiply by 1000 for 1/s). Positive: chaos; zero: a limit cycle or a continuous attractor
direction; negative: convergence to a stable fixed point.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DivergenceError
from .fixed_points import initial_states
from .maps import as_step_map, tangent


@dataclass
class LyapunovResult:
    """``exponent`` (mean over trajectories, per unit time) with its standard error."""

    exponent: float
    stderr: float
    per_trajectory: np.ndarray
    running: np.ndarray = field(repr=False)
    dt: float = 1.0
    n_steps: int = 0


def largest_lyapunov(
    system,
    initial,
    n_steps: int,
    transient: int = 0,
    renorm_every: int = 1,
    stimulus: torch.Tensor | None = None,
    seed: int = 0,
    method: str = "difference",
) -> LyapunovResult:
    """Largest Lyapunov exponent of ``system`` from each initial state ``(B, n)``.

    ``transient`` steps are run first and not counted; ``running`` is the estimate (mean
    over trajectories) after each renormalisation, for checking convergence. ``method``: how
    tangents are propagated (see :func:`neurovision.analysis.maps.tangent`).
    """
    fmap = as_step_map(system, stimulus)
    x = initial_states(initial, fmap)
    if n_steps < renorm_every or renorm_every < 1:
        raise ValueError(f"need n_steps >= renorm_every >= 1, got {n_steps}, {renorm_every}")
    with torch.no_grad():
        for k in range(transient):
            x = fmap(x)
            _check(x, k + 1, "transient")
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x)
    v = v / v.norm(dim=1, keepdim=True)
    log_growth = torch.zeros(x.shape[0], dtype=torch.float64)
    running = []
    n_blocks = n_steps // renorm_every
    for block in range(n_blocks):
        for _ in range(renorm_every):
            x, v = tangent(fmap, x, v, method)
            x, v = x.detach(), v.detach()
        norm = v.norm(dim=1)
        _check(torch.stack([norm]), (block + 1) * renorm_every, "tangent")
        _check(x, (block + 1) * renorm_every, "state")
        log_growth += torch.log(norm).double().cpu()
        v = v / norm[:, None]
        running.append(float(log_growth.mean()) / ((block + 1) * renorm_every * fmap.dt))
    per = (log_growth / (n_blocks * renorm_every * fmap.dt)).numpy()
    stderr = float(per.std(ddof=1) / np.sqrt(len(per))) if len(per) > 1 else float("nan")
    return LyapunovResult(float(per.mean()), stderr, per, np.array(running), fmap.dt, n_blocks * renorm_every)


def _check(x: torch.Tensor, step: int, what: str) -> None:
    if not torch.isfinite(x).all():
        raise DivergenceError(
            f"the {what} became NaN/Inf at step {step}; the system diverges from these initial "
            "states (or the tangent under/overflows): lower dt, renormalise more often "
            "(renorm_every) or start closer to the attractor"
        )
