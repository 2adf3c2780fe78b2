"""A fixed image-computable feature map behind a leaky temporal filter.

Every baseline is ``tau dr/dt = -r + x(t)`` per feature, where ``x`` is the fixed spatial
features (``features``) of what is on screen: the image during a presentation, the uniform gray
screen (:data:`~neurovision.brain.presentation.GRAY`) between images. The model starts at its
steady state for the gray screen. One step of ``dt`` ms is the exact solution for the
piecewise-constant drive a schedule gives::

    r <- x + (r - x) exp(-dt / tau)

so the step response is ``1 - exp(-t / tau)`` at every step time (1 - 1/e at ``t = tau``);
forward Euler, ``r <- r + dt/tau (x - r)``, would give 0.651 instead of 0.632 at ``t = tau``
for ``dt = 2``, ``tau = 20`` ms.
"""
from __future__ import annotations

import math

import torch

from ...brain.presentation import GRAY
from ...dynamics.base import State, SteppedModel
from ...errors import ShapeError

#: brain regions a baseline stands for (its single area is used for every one)
REGIONS = ("V1", "V2", "V4", "IT")


class LeakyFeatureModel(SteppedModel):
    """Leaky temporal filter on ``features(images)`` (B, C, H, W); one area, named ``areas[0]``.

    ``input_shape`` (C, H, W) in px over ``visual_degrees`` degrees; ``tau``, ``dt`` in ms.
    Subclasses set ``areas`` and implement :meth:`features`.
    """

    def __init__(self, input_shape: tuple[int, int, int], visual_degrees: float = 8.0,
                 tau: float = 20.0, dt: float = 2.0):
        super().__init__()
        if not (tau > 0 and 0 < dt <= tau):
            raise ValueError(f"need 0 < dt <= tau (ms), got dt={dt}, tau={tau}")
        if visual_degrees <= 0:
            raise ValueError(f"visual_degrees must be > 0, got {visual_degrees}")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.visual_degrees, self.tau, self.dt = float(visual_degrees), float(tau), float(dt)
        self.decay = math.exp(-self.dt / self.tau)
        self.region_areas = {region: self.areas[0] for region in REGIONS}

    @property
    def px_per_degree(self) -> float:
        """Input pixels per degree of visual angle."""
        return self.input_shape[-1] / self.visual_degrees

    def set_blank(self) -> None:
        """Features of the uniform gray screen; call at the end of a subclass's ``__init__``."""
        gray = torch.full((1, *self.input_shape), GRAY)
        self.register_buffer("blank", self.features(gray)[0], persistent=False)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Fixed spatial features (B, C', H', W') of images (B, *input_shape) in [0, 1]."""
        raise NotImplementedError

    def area_shape(self, area: str) -> tuple[int, ...]:
        self.check_area(area)
        return tuple(self.blank.shape)

    def initial_state(self, batch_size: int) -> State:
        return {self.areas[0]: self.blank.expand(batch_size, *self.blank.shape).clone()}

    def encode(self, stimulus: torch.Tensor) -> torch.Tensor:
        if tuple(stimulus.shape[1:]) != self.input_shape:
            raise ShapeError(
                f"images of shape {tuple(stimulus.shape[1:])} given; {type(self).__name__} expects "
                f"{self.input_shape}. Fit them with neurovision.data.images.prepare_images "
                "(scoring does this)"
            )
        return self.features(stimulus)

    def step(self, state: State, drive: torch.Tensor | None) -> State:
        target = self.blank if drive is None else drive
        r = state[self.areas[0]]
        return {self.areas[0]: target + (r - target) * self.decay}
