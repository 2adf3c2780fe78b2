"""Dynamical systems with known behaviour: analytic references and planted attractors.

All but the Lorenz map are :class:`~neurovision.dynamics.SteppedModel` s integrated by Euler
steps of ``dt`` ms, so every analysis sees them exactly as it sees CordsNet:

* :class:`LinearRNN`: ``tau dr/dt = -r + W r + b``; fixed point ``(I - W)^-1 b``, Jacobian
  eigenvalues ``(eig(W) - 1) / tau``.
* :class:`HopfOscillator`: the Hopf normal form, an unstable focus at 0 (eigenvalues
  ``mu +- i omega``) surrounded by a stable limit cycle of radius ``sqrt(mu)`` and period
  ``2 pi / omega``.
* :class:`GaussianTanhRNN`: ``tau dr/dt = -r + tanh(W r)`` with Gaussian ``W`` of variance
  ``g^2 / fan-in``, fully connected or a 3 x 3 convolution (CordsNet's recurrent weight
  structure); stable, oscillatory or chaotic depending on ``g`` (Sompolinsky et al. 1988).
* :class:`RingRNN`, :class:`LineRNN`, :class:`BistableRNN`: planted ring, line and discrete
  attractors.
* :func:`lorenz_map`: the Lorenz system (RK4 steps), largest Lyapunov exponent 0.9056.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as tfn

from ..dynamics.base import SteppedModel
from ..errors import ShapeError
from .maps import FunctionMap


class _VectorRNN(SteppedModel):
    """A one-area rate network with state ``"r"`` of shape ``state_shape``; no image input.

    ``step`` adds ``drive`` (a tensor broadcastable to the state, e.g. a task input) to the
    recurrent input when given.
    """

    areas = ("r",)

    def __init__(self, state_shape, tau: float, dt: float):
        super().__init__()
        if tau <= 0 or dt <= 0:
            raise ValueError(f"tau and dt must be > 0 ms, got tau={tau}, dt={dt}")
        self.state_shape = tuple(state_shape)
        self.tau, self.dt = float(tau), float(dt)

    def area_shape(self, area):
        self.check_area(area)
        return self.state_shape

    def initial_state(self, batch_size):
        return {"r": torch.zeros(batch_size, *self.state_shape, dtype=torch.float64)}

    def field(self, r: torch.Tensor, drive) -> torch.Tensor:
        """dr/dt (per ms) at ``r``."""
        raise NotImplementedError

    def step(self, state, drive):
        r = state["r"]
        return {"r": r + self.dt * self.field(r, drive)}


class LinearRNN(_VectorRNN):
    """``tau dr/dt = -r + W r + b (+ drive)``, ``W`` ``(n, n)``, ``b`` ``(n,)``."""

    def __init__(self, weight, bias=None, tau: float = 10.0, dt: float = 1.0):
        weight = torch.as_tensor(weight, dtype=torch.float64)
        if weight.dim() != 2 or weight.shape[0] != weight.shape[1]:
            raise ShapeError(f"the recurrent weight must be square (n, n), got {tuple(weight.shape)}")
        super().__init__((weight.shape[0],), tau, dt)
        self.register_buffer("weight", weight)
        b = torch.zeros(weight.shape[0], dtype=torch.float64) if bias is None else torch.as_tensor(bias, dtype=torch.float64)
        self.register_buffer("bias", b)

    def field(self, r, drive):
        inp = r @ self.weight.T + self.bias + (0 if drive is None else drive)
        return (inp - r) / self.tau

    def fixed_point(self) -> torch.Tensor:
        """The unique fixed point ``(I - W)^-1 b`` (W must not have eigenvalue 1)."""
        eye = torch.eye(self.weight.shape[0], dtype=torch.float64)
        return torch.linalg.solve(eye - self.weight, self.bias)


class HopfOscillator(_VectorRNN):
    """``dz/dt = (mu + i omega) z - |z|^2 z`` for ``z = x + i y``; ``omega`` in rad/ms."""

    def __init__(self, mu: float = 1.0, omega: float = 1.0, dt: float = 0.01):
        super().__init__((2,), tau=1.0, dt=dt)
        self.mu, self.omega = float(mu), float(omega)

    def field(self, r, drive):
        x, y = r[..., 0], r[..., 1]
        radius2 = x * x + y * y
        dx = self.mu * x - self.omega * y - radius2 * x
        dy = self.omega * x + self.mu * y - radius2 * y
        return torch.stack([dx, dy], dim=-1)


class GaussianTanhRNN(_VectorRNN):
    """``tau dr/dt = -r + tanh(W r + drive)``; ``W`` Gaussian with variance ``gain^2 / fan_in``.

    ``kind="dense"``: ``n`` units, fan-in ``n``. ``kind="conv"``: ``channels x size x size``
    units and a 3 x 3 recurrent convolution with zero padding, fan-in ``9 * channels``.
    """

    def __init__(self, gain: float, kind: str = "dense", n: int = 200, channels: int = 8,
                 size: int = 8, tau: float = 10.0, dt: float = 1.0, seed: int = 0):
        if kind not in ("dense", "conv"):
            raise ValueError(f"kind={kind!r}; choose 'dense' or 'conv'")
        shape = (n,) if kind == "dense" else (channels, size, size)
        super().__init__(shape, tau, dt)
        self.kind, self.gain = kind, float(gain)
        gen = torch.Generator().manual_seed(seed)
        if kind == "dense":
            w = torch.randn(n, n, generator=gen, dtype=torch.float64) * gain / math.sqrt(n)
        else:
            w = torch.randn(channels, channels, 3, 3, generator=gen, dtype=torch.float64)
            w *= gain / math.sqrt(9 * channels)
        self.register_buffer("weight", w)

    def recurrent(self, r: torch.Tensor) -> torch.Tensor:
        """``W r`` for a batch of states."""
        if self.kind == "dense":
            return r @ self.weight.T
        return tfn.conv2d(r, self.weight, padding=1)

    def field(self, r, drive):
        inp = self.recurrent(r) + (0 if drive is None else drive)
        return (torch.tanh(inp) - r) / self.tau


class RingRNN(_VectorRNN):
    """A ring attractor: ``tau dr/dt = -r + tanh(W r)``, ``W_ij = (J / n) cos(theta_i - theta_j)``.

    For ``J > 2`` the bump states ``r_i = tanh(J a cos(theta_i - phi))`` are fixed points for
    every angle ``phi`` (a ring of radius set by ``a``); rotations of the unit index only
    permute the ring, so it is continuous up to exponentially small ripples in ``n``.
    """

    def __init__(self, n: int = 64, coupling: float = 4.0, tau: float = 10.0, dt: float = 1.0):
        super().__init__((n,), tau, dt)
        theta = torch.arange(n, dtype=torch.float64) * 2 * math.pi / n
        self.register_buffer("theta", theta)
        self.register_buffer("weight", coupling / n * torch.cos(theta[:, None] - theta[None, :]))

    def field(self, r, drive):
        inp = r @ self.weight.T + (0 if drive is None else drive)
        return (torch.tanh(inp) - r) / self.tau


class LineRNN(LinearRNN):
    """A line attractor: linear dynamics with ``W = u u^T + sum_k a_k v_k v_k^T`` (``|a_k| < 1``),
    so every multiple of the unit vector ``u`` is a fixed point and other directions decay.
    """

    def __init__(self, n: int = 20, tau: float = 10.0, dt: float = 1.0, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
        decay = torch.cat([torch.ones(1, dtype=torch.float64),
                           0.8 * torch.rand(n - 1, generator=gen, dtype=torch.float64) - 0.4])
        super().__init__(q @ torch.diag(decay) @ q.T, None, tau, dt)
        self.register_buffer("direction", q[:, 0].clone())


class BistableRNN(_VectorRNN):
    """Discrete attractors: ``tau dr/dt = -r + tanh(g u u^T r / n)`` with ``u_i = +-1``, ``g > 1``:
    two stable fixed points ``+-c u`` and a saddle at 0.
    """

    def __init__(self, n: int = 20, gain: float = 2.0, tau: float = 10.0, dt: float = 1.0, seed: int = 0):
        super().__init__((n,), tau, dt)
        gen = torch.Generator().manual_seed(seed)
        u = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0).double()
        self.register_buffer("pattern", u)
        self.register_buffer("weight", gain / n * torch.outer(u, u))

    def field(self, r, drive):
        return (torch.tanh(r @ self.weight.T + (0 if drive is None else drive)) - r) / self.tau


def lorenz_map(dt: float = 0.01, sigma: float = 10.0, rho: float = 28.0, beta: float = 8.0 / 3.0) -> FunctionMap:
    """One RK4 step of the Lorenz system on batches ``(B, 3)``; time in model units."""

    def field(s):
        x, y, z = s[:, 0], s[:, 1], s[:, 2]
        return torch.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], dim=1)

    def step(s):
        k1 = field(s)
        k2 = field(s + 0.5 * dt * k1)
        k3 = field(s + 0.5 * dt * k2)
        k4 = field(s + dt * k3)
        return s + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

    return FunctionMap(step, 3, dt)

