"""Convolutional LSTM cell (Shi et al. 2015; the form used by Lotter et al. 2016).

With drive ``x`` and state ``(h, c)`` (each (B, C, H, W))::

    [i, f, o, g] = W * [x, h] + b          (one E x E convolution, 4C output channels)
    c' = sigmoid(f) . c + sigmoid(i) . tanh(g)
    h' = sigmoid(o) . tanh(c')

The state is packed as one tensor ``cat([h, c], dim=1)`` of 2C channels so recurrent
back-propagation (:mod:`neurovision.families.recurrent.rbp`) treats it as a single fixed-point variable.
"""
from __future__ import annotations

import torch
from torch import nn


class ConvLSTMCell(nn.Module):
    """ConvLSTM step ``state' = cell(x, state)``, ``state = cat([h, c])``; ``kernel`` x ``kernel``."""

    def __init__(self, channels: int = 25, kernel: int = 15, forget_bias: float = 1.0):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"the kernel size must be odd, got {kernel}")
        self.channels, self.kernel = channels, kernel
        self.state_channels = 2 * channels
        self.gates = nn.Conv2d(2 * channels, 4 * channels, kernel, padding=kernel // 2)
        with torch.no_grad():
            self.gates.bias.zero_()
            self.gates.bias[channels: 2 * channels].fill_(forget_bias)

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        """The output ``h`` (first C channels) of a packed state."""
        return state[:, : self.channels]

    def forward(self, drive: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        h, c = state[:, : self.channels], state[:, self.channels:]
        i, f, o, g = self.gates(torch.cat([drive, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=1)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel={self.kernel}x{self.kernel}"
