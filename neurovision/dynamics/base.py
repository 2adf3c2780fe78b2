"""The interface every continuous-time model implements.

Two kinds of model exist:

* :class:`SteppedModel` (CordsNet, back-end RNNs, the leaky reference): advanced by Euler steps
  of ``dt`` ms. ``encode`` turns a presentation's stimulus into its constant drive once, so the
  per-step work is only the dynamics.
* :class:`SampledModel` (DCN, ODE-Net): solved by an adaptive solver and sampled at requested
  times (ms relative to stimulus onset).

States are ``dict[area name -> Tensor (batch, ...)]``.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

State = dict[str, torch.Tensor]


class DynamicalModel(nn.Module):
    """Common part: named ``areas``, expected ``input_shape`` (C, H, W) and coordinates."""

    #: names of the recordable areas, ordered from input to output
    areas: tuple[str, ...] = ()
    #: expected image shape (channels, height, width); None = any
    input_shape: tuple[int, int, int] | None = None
    #: degrees of visual angle spanned by the input image
    visual_degrees: float = 8.0

    def area_shape(self, area: str) -> tuple[int, ...]:
        """Shape of one presentation's activity in ``area`` (e.g. (C, H, W) or (N,))."""
        raise NotImplementedError

    def check_area(self, area: str) -> None:
        """Raise :class:`~neurovision.errors.UnknownIdError` for an area the model lacks."""
        if area not in self.areas:
            from ..errors import UnknownIdError

            raise UnknownIdError("area", area, list(self.areas))


class SteppedModel(DynamicalModel):
    """A model integrated by Euler steps of ``dt`` ms."""

    #: integration step in ms
    dt: float = 1.0

    def initial_state(self, batch_size: int) -> State:
        """The state before the schedule starts (e.g. zeros or the spontaneous state)."""
        raise NotImplementedError

    def encode(self, stimulus: torch.Tensor) -> Any:
        """Constant drive of one presentation (computed once, reused at every step)."""
        return stimulus

    def step(self, state: State, drive: Any | None) -> State:
        """Advance ``state`` by ``dt`` ms under ``drive`` (None: nothing on screen)."""
        raise NotImplementedError

    def activity(self, state: State, area: str) -> torch.Tensor:
        """Recorded activity of ``area`` in ``state`` (batch, *area_shape)."""
        return state[area]


class SampledModel(DynamicalModel):
    """A model solved by an adaptive ODE solver and sampled at requested times."""

    #: spacing (ms) at which bins are sampled and averaged
    sample_interval: float = 1.0

    def trajectory(self, images: torch.Tensor, times: torch.Tensor, areas) -> dict[str, torch.Tensor]:
        """Activity of ``areas`` at ``times`` (ms after onset): dict area -> (T, B, *shape)."""
        raise NotImplementedError
