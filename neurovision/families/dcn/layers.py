"""Small layers shared by DCNs and their baselines: norms, activations, pixel convolutions."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .cache import CachedWeights

#: group normalisation uses 32 groups everywhere (Tomen et al. 2021, appendix A.2)
GROUPS = 32
ACTIVATIONS = {"celu": nn.CELU, "relu": nn.ReLU}


def norm(channels: int) -> nn.GroupNorm:
    """Group normalisation with ``min(32, channels)`` groups."""
    return nn.GroupNorm(min(GROUPS, channels), channels)


def activation(name: str) -> nn.Module:
    """CELU (DCNs) or ReLU (ODE-Net and ResNet baselines)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} unknown; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class TimeConv2d(CachedWeights):
    """3x3 pixel convolution of ``[t, h]`` with bias (the ODE-Net layer ``ConcatConv2d``).

    Stores the weight of all ``in + 1`` channels (time first, as in Chen et al. 2018); the time
    channel's response ``t * conv(1, W_t)`` is computed once per input size and added.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels + 1, out_channels, kernel_size, padding=kernel_size // 2)
        self.in_channels = in_channels

    def _time_response(self, size, dtype, device) -> torch.Tensor:
        ones = torch.ones(1, 1, *size, dtype=dtype, device=device)
        return F.conv2d(ones, self.conv.weight[:, :1], padding=self.conv.padding)

    def forward(self, h: torch.Tensor, t) -> torch.Tensor:
        size = tuple(h.shape[-2:])
        time = self.cached("time", (size, h.dtype, h.device), lambda: self._time_response(size, h.dtype, h.device))
        y = F.conv2d(h, self.conv.weight[:, 1:], self.conv.bias, padding=self.conv.padding)
        return y + torch.as_tensor(t, dtype=y.dtype, device=y.device) * time


class Head(nn.Sequential):
    """Classifier: norm, activation, global average pooling, linear."""

    def __init__(self, channels: int, num_classes: int, act: str):
        super().__init__(norm(channels), activation(act), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(channels, num_classes))
