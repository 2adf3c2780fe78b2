"""A recurrent cell (hGRU, convLSTM) between a Gabor-initialised encoder and a readout.

As in Linsley et al. (2018, 2020) for Pathfinder: a 7 x 7 convolution whose output is squared
(an energy model) gives the static drive ``Z``; the cell iterates ``h <- cell(Z, h)`` from zero;
the readout normalises the hidden activity, maps it to one map per class with a 1 x 1
convolution and takes the spatial maximum.

The model is a :class:`~neurovision.dynamics.SteppedModel`: one recurrent step lasts ``dt`` ms
(a nominal duration, default 10 ms), blank epochs drive the cell with zeros, and the area
``"hidden"`` is recordable with :func:`neurovision.dynamics.record`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...dynamics.base import SteppedModel
from ...errors import ShapeError
from .rbp import Unrolled, trajectory, unroll


def gabor_bank(channels: int, size: int) -> torch.Tensor:
    """``channels`` zero-mean, unit-norm Gabor filters (channels, 1, size, size).

    Orientations are spread evenly over 180 degrees; even and odd phases alternate.
    Wavelength = size / 2 px, Gaussian sigma = size / 4 px.
    """
    half = (size - 1) / 2
    coords = torch.arange(size, dtype=torch.float64) - half
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    n_orient = max(1, math.ceil(channels / 2))
    filters = []
    for k in range(channels):
        theta = math.pi * (k // 2) / n_orient
        phase = 0.0 if k % 2 == 0 else math.pi / 2
        rot = x * math.cos(theta) + y * math.sin(theta)
        envelope = torch.exp(-(x**2 + y**2) / (2 * (size / 4) ** 2))
        g = envelope * torch.cos(2 * math.pi * rot / (size / 2) + phase)
        g = g - g.mean()
        filters.append(g / g.norm().clamp_min(1e-12))
    return torch.stack(filters).unsqueeze(1).float()


class RecurrentClassifier(SteppedModel):
    """Encoder -> recurrent ``cell`` for ``steps`` steps -> max-pooled 1 x 1 readout.

    ``cell``: an :class:`~neurovision.families.recurrent.hgru.HGRUCell` or
    :class:`~neurovision.families.recurrent.convlstm.ConvLSTMCell` with ``channels`` channels;
    ``input_shape``: (C, H, W) of the images; ``classes``: number of outputs.
    """

    areas = ("hidden",)

    def __init__(self, cell: nn.Module, input_shape=(1, 32, 32), classes: int = 2, steps: int = 8,
                 encoder_kernel: int = 7, dt: float = 10.0):
        super().__init__()
        self.cell, self.steps, self.dt = cell, int(steps), float(dt)
        self.input_shape = tuple(int(v) for v in input_shape)
        channels = cell.channels
        self.encoder = nn.Conv2d(self.input_shape[0], channels, encoder_kernel, padding=encoder_kernel // 2)
        with torch.no_grad():
            bank = gabor_bank(channels, encoder_kernel)
            self.encoder.weight.copy_(bank.repeat(1, self.input_shape[0], 1, 1) / self.input_shape[0])
            self.encoder.bias.zero_()
        self.norm = nn.BatchNorm2d(channels, eps=1e-3, track_running_stats=False)
        self.classify = nn.Conv2d(channels, classes, 1)

    # -- SteppedModel interface ---------------------------------------------------------------
    def area_shape(self, area):
        self.check_area(area)
        return (self.cell.channels, *self.input_shape[1:])

    def initial_state(self, batch_size):
        p = self.encoder.weight
        shape = (batch_size, self.cell.state_channels, *self.input_shape[1:])
        return {"hidden": p.new_zeros(shape)}

    def encode(self, stimulus):
        if tuple(stimulus.shape[1:]) != self.input_shape:
            raise ShapeError(
                f"images have shape {tuple(stimulus.shape[1:])}; the model expects {self.input_shape} "
                "(use neurovision.data.images.prepare_images)"
            )
        return self.encoder(stimulus) ** 2

    def step(self, state, drive):
        h = state["hidden"]
        if drive is None:
            drive = h.new_zeros(h.shape[0], self.cell.channels, *h.shape[2:])
        return {"hidden": self.cell(drive, h)}

    def activity(self, state, area):
        self.check_area(area)
        return self.cell.hidden(state["hidden"])

    # -- classification -----------------------------------------------------------------------
    def readout(self, state) -> torch.Tensor:
        """Class logits (B, classes) of a state dict or packed cell state (B, state_channels, H, W)."""
        if isinstance(state, dict):
            state = state["hidden"]
        maps = self.classify(self.norm(self.cell.hidden(state)))
        return maps.amax(dim=(2, 3))

    def unroll(self, images: torch.Tensor, steps: int | None = None, method: str = "bptt",
               terms: int = 20) -> Unrolled:
        """Run ``steps`` (default: the training horizon) with gradients by ``method``."""
        drive = self.encode(images)
        h0 = self.initial_state(images.shape[0])["hidden"]
        return unroll(lambda h: self.cell(drive, h), h0, steps or self.steps, method, terms)

    def forward(self, images: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        """Logits after ``steps`` steps (BPTT graph when grad is enabled)."""
        return self.readout(self.unroll(images, steps).state)

    def states(self, images: torch.Tensor, steps: int) -> list[torch.Tensor]:
        """Packed states after steps 1..``steps`` (no graph)."""
        with torch.no_grad():
            drive = self.encode(images)
            h0 = self.initial_state(images.shape[0])["hidden"]
        return trajectory(lambda h: self.cell(drive, h), h0, steps)


def pooled(states: list[torch.Tensor], cell: nn.Module) -> torch.Tensor:
    """Global-average-pooled hidden activity (T, B, C) of packed states (supplement 3.2 (ii))."""
    return torch.stack([F.adaptive_avg_pool2d(cell.hidden(s), 1).flatten(1) for s in states])


CELLS = ("hgru", "convlstm")


def build_recurrent_classifier(cell: str = "hgru", channels: int = 25, kernel: int = 15,
                               input_shape=(1, 40, 40), classes: int = 2, steps: int = 8) -> RecurrentClassifier:
    """A :class:`RecurrentClassifier` with an hGRU or convLSTM ``cell`` (``kernel`` x ``kernel``)."""
    from .convlstm import ConvLSTMCell
    from .hgru import HGRUCell

    if cell == "hgru":
        module = HGRUCell(channels, kernel, steps=steps)
    elif cell == "convlstm":
        module = ConvLSTMCell(channels, kernel)
    else:
        from ...errors import UnknownIdError

        raise UnknownIdError("recurrent cell", cell, list(CELLS))
    return RecurrentClassifier(module, input_shape, classes, steps)
