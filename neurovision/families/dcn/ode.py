"""ODE blocks (depth-time continuous) and discrete residual blocks with a common interface.

An ODE block integrates ``dh/dt = f(h, t)`` from ``t = 0`` to ``T`` with torchdiffeq (dopri5,
rtol = atol = 1e-3 by default, or a fixed-step solver taking ``steps`` equal steps; direct
back-propagation or the adjoint method), where (Tomen et al. 2021, eq. 2)::

    f(h, t) = GN(K2 g(K1 g(h) + d1 t) + d2 t),   g = activation o GN

``K1, K2`` are SRF or 3x3 pixel convolutions that see t as an extra channel. The function counts
its evaluations exactly (``nfe``). A residual block ``h + f(h)`` (no t) is one explicit Euler
step of length 1; its trajectory is the Euler interpolant ``h0 + t f(h0)``, t in [0, 1], and
time rescaling to ``T`` makes the step ``h0 + T f(h0)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...errors import DivergenceError, ShapeError
from .cache import filter_scope
from .layers import activation, norm

#: torchdiffeq solvers with a fixed step; they take ``steps`` equal steps over the block
FIXED_STEP_METHODS = ("euler", "midpoint", "rk4")


class ODEFunc(nn.Module):
    """The vector field ``f(t, h)`` of an ODE block; ``conv(channels)`` makes a ``(h, t)`` layer."""

    def __init__(self, channels: int, conv, act: str):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = norm(channels), norm(channels), norm(channels)
        self.conv1, self.conv2 = conv(channels), conv(channels)
        self.act = activation(act)
        self.nfe = 0
        self.last_t = 0.0

    def forward(self, t, h: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        now = float(t.detach() if torch.is_tensor(t) else t)
        if math.isfinite(now):
            self.last_t = now
        out = self.conv1(self.act(self.norm1(h)), t)
        out = self.conv2(self.act(self.norm2(out)), t)
        return self.norm3(out)


class ODEBlock(nn.Module):
    """Solves the block's ODE over ``[0, T]``; ``forward`` returns ``h(T)``."""

    def __init__(self, func: ODEFunc, T: float, rtol: float = 1e-3, atol: float = 1e-3,
                 method: str = "dopri5", adjoint: bool = False, steps: int | None = None, name: str = "block"):
        super().__init__()
        if T <= 0:
            raise ValueError(f"integration time T must be > 0, got {T}")
        if method in FIXED_STEP_METHODS and not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"the fixed-step solver {method!r} needs steps >= 1 per block, got {steps!r}")
        self.func, self.T = func, float(T)
        self.rtol, self.atol, self.method, self.adjoint, self.name = rtol, atol, method, adjoint, name
        self.steps = steps if method in FIXED_STEP_METHODS else None
        self.last_nfe = 0

    @property
    def nfe(self) -> int:
        """Function evaluations since the counter was last reset (forward and adjoint)."""
        return self.func.nfe

    def reset_nfe(self) -> None:
        self.func.nfe = 0

    def solve(self, h0: torch.Tensor, times, span: float | None = None) -> torch.Tensor:
        """States at depth-times ``times`` (increasing, first 0): ``(len(times), *h0.shape)``.

        A fixed-step solver takes steps of ``span / steps`` (``span`` defaults to T), whatever
        the output times, so sampling a trajectory does not change the discretisation.
        """
        import torchdiffeq

        times = torch.as_tensor(times, dtype=h0.dtype, device=h0.device)
        if times.ndim != 1 or times.numel() < 2 or float(times[0]) != 0.0 or bool((times.diff() <= 0).any()):
            raise ValueError(f"block {self.name}: depth-times must increase from 0, got {times.tolist()}")
        solver = torchdiffeq.odeint_adjoint if self.adjoint else torchdiffeq.odeint
        extra = {"adjoint_params": tuple(self.func.parameters())} if self.adjoint else {}
        if self.steps is not None:
            extra["options"] = {"step_size": (self.T if span is None else span) / self.steps}
        before = self.func.nfe
        try:
            with filter_scope():
                states = solver(self.func, h0, times, rtol=self.rtol, atol=self.atol, method=self.method, **extra)
        except AssertionError as exc:
            if "underflow" not in str(exc) and "non-finite" not in str(exc):
                raise
            raise DivergenceError(
                f"ODE block {self.name}: the {self.method} step size underflowed at depth-time "
                f"t = {self.func.last_t:.6g} after {self.func.nfe - before} function evaluations "
                f"({str(exc)[:80]}); the dynamics are too stiff or diverged. Lower the learning rate, "
                "the input contrast or loosen rtol/atol"
            ) from None
        self.last_nfe = self.func.nfe - before
        return states

    def forward(self, h0: torch.Tensor, T: float | None = None) -> torch.Tensor:
        """``h(T)``; ``T`` overrides the block's integration time (time rescaling)."""
        T = self.T if T is None else float(T)
        return self.solve(h0, [0.0, T], span=T)[-1]

    def trajectory(self, h0: torch.Tensor, times) -> torch.Tensor:
        """States at depth-times in ``[0, T]`` (any order): ``(len(times), *h0.shape)``."""
        times = torch.as_tensor(times, dtype=torch.float64).flatten()
        if bool(((times < 0) | (times > self.T + 1e-9)).any()):
            raise ValueError(f"block {self.name}: depth-times must lie in [0, {self.T:g}]")
        grid, inverse = torch.unique(torch.cat([times.new_zeros(1), times]), return_inverse=True)
        if grid.numel() == 1:
            return h0.unsqueeze(0).expand(times.numel(), *h0.shape)
        states = self.solve(h0, grid.to(h0.dtype))
        return states[inverse[1:]]


class ResidualBlock(nn.Module):
    """Discrete residual block ``h + conv2(g(conv1(g(h))))``, ``g = activation o GN``."""

    T = 1.0

    def __init__(self, channels: int, conv, act: str, name: str = "block"):
        super().__init__()
        self.norm1, self.norm2 = norm(channels), norm(channels)
        self.conv1, self.conv2 = conv(channels), conv(channels)
        self.act = activation(act)
        self.name = name
        self.last_nfe = 0

    def increment(self, h: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.act(self.norm1(h)))
        return self.conv2(self.act(self.norm2(out)))

    def forward(self, h: torch.Tensor, T: float | None = None) -> torch.Tensor:
        """``h + T f(h)``: the Euler step of length ``T`` (default 1, the residual block)."""
        self.last_nfe = 1
        with filter_scope():
            step = self.increment(h)
        return h + step if T is None else h + float(T) * step

    def trajectory(self, h0: torch.Tensor, times) -> torch.Tensor:
        """Euler interpolant ``h0 + t f(h0)`` at ``times`` in [0, 1]: ``(len(times), *h0.shape)``."""
        times = torch.as_tensor(times, dtype=h0.dtype, device=h0.device).flatten()
        if bool(((times < 0) | (times > 1 + 1e-9)).any()):
            raise ValueError(f"block {self.name}: depth-times of a residual block lie in [0, 1]")
        with filter_scope():
            step = self.increment(h0)
        return h0.unsqueeze(0) + times.view(-1, *([1] * h0.ndim)) * step.unsqueeze(0)


def check_images(images: torch.Tensor, input_shape: tuple[int, int, int]) -> None:
    """Raise :class:`ShapeError` unless ``images`` is ``(B, *input_shape)``."""
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(input_shape):
        raise ShapeError(
            f"images have shape {tuple(images.shape)}; the network expects (B, {', '.join(map(str, input_shape))}). "
            "Fit them with neurovision.data.images.prepare_images(images, model.input_shape)"
        )
