"""A leaky linear rate model with a closed-form solution, the reference for integration tests.

Each unit ``i`` reads one pixel: ``tau dr_i/dt = -r_i + g_i x_i`` (``x`` = flattened image,
0 when blank). For piecewise-constant input the exact solution is
``r(t) = r_ss + (r(t0) - r_ss) exp(-(t - t0)/tau)`` with ``r_ss = g x``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .base import SteppedModel
from .schedule import Schedule


class LeakyLinear(SteppedModel):
    """Leaky linear units, one per input pixel; ``tau`` and ``dt`` in ms."""

    areas = ("rate",)

    def __init__(self, input_shape=(1, 8, 8), tau: float = 10.0, dt: float = 1.0, seed: int = 0):
        super().__init__()
        if tau <= 0 or dt <= 0:
            raise ValueError(f"tau and dt must be > 0 ms, got tau={tau}, dt={dt}")
        self.input_shape = tuple(input_shape)
        self.tau, self.dt = float(tau), float(dt)
        gen = torch.Generator().manual_seed(seed)
        n = int(np.prod(self.input_shape))
        self.register_buffer("gain", 0.5 + torch.rand(n, generator=gen))

    def area_shape(self, area):
        self.check_area(area)
        return self.input_shape

    def initial_state(self, batch_size):
        return {"rate": self.gain.new_zeros(batch_size, *self.input_shape)}

    def encode(self, stimulus):
        return self.gain.view(self.input_shape) * stimulus

    def step(self, state, drive):
        r = state["rate"]
        target = torch.zeros_like(r) if drive is None else drive
        return {"rate": r + (self.dt / self.tau) * (target - r)}

    def exact(self, images: torch.Tensor, schedule: Schedule, times: np.ndarray) -> torch.Tensor:
        """Closed-form rates at ``times`` (ms after stimulus onset): (T, B, C, H, W)."""
        drive = self.encode(images)
        out = []
        for t in np.asarray(times, dtype=float) + schedule.time_zero:
            r, start = torch.zeros_like(drive), 0.0
            for epoch in schedule.epochs:
                end = start + epoch.duration
                span = min(t, end) - start
                if span <= 0:
                    break
                target = drive if epoch.stimulus is not None else torch.zeros_like(drive)
                r = target + (r - target) * math.exp(-span / self.tau)
                start = end
            out.append(r)
        return torch.stack(out)
