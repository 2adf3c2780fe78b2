"""The horizontal gated recurrent unit (hGRU) of Linsley et al. (2018, 2020).

One step maps the hidden state ``H[t-1]`` and the static drive ``Z`` (both (B, C, X, Y)) to
``H[t]`` in two stages (Linsley et al. 2020, supplement section 3.1; ``[.]_+`` = softplus):

Stage 1 (suppression)::

    G^S = sigmoid(U^S * H[t-1])
    C^S = BN(W^S * (H[t-1] . G^S))
    S   = [Z - [(alpha H[t-1] + mu) C^S]_+]_+

Stage 2 (facilitation)::

    G^F  = sigmoid(U^F * S)
    C^F  = BN(W^F * S)
    H~   = [nu (C^F + S) + omega (C^F . S)]_+
    H[t] = (1 - G^F) . H[t-1] + G^F . H~

``W^S, W^F`` are E x E horizontal kernels (E = 15 in the paper), ``U^S, U^F`` 1 x 1 gates;
``alpha, mu, nu, omega`` are per-channel. Batch normalisation uses the statistics of the batch
at every step, with learned scale (initialised to 0.1) and shift shared across steps.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class HGRUCell(nn.Module):
    """hGRU step ``H[t] = cell(Z, H[t-1])`` with ``channels`` channels and ``kernel`` x ``kernel``
    horizontal kernels; ``steps`` sets the gate-bias initialisation range (chrono init)."""

    def __init__(self, channels: int = 25, kernel: int = 15, steps: int = 8, eps: float = 1e-3):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"the horizontal kernel size must be odd, got {kernel}")
        self.channels, self.kernel = channels, kernel
        self.state_channels = channels
        self.gate_s = nn.Conv2d(channels, channels, 1)
        self.gate_f = nn.Conv2d(channels, channels, 1)
        self.w_s = nn.Parameter(torch.empty(channels, channels, kernel, kernel))
        self.w_f = nn.Parameter(torch.empty(channels, channels, kernel, kernel))
        self.alpha = nn.Parameter(torch.full((channels, 1, 1), 0.1))
        self.mu = nn.Parameter(torch.full((channels, 1, 1), 1.0))
        self.nu = nn.Parameter(torch.full((channels, 1, 1), 0.5))
        self.omega = nn.Parameter(torch.full((channels, 1, 1), 0.5))
        self.bn_s = nn.BatchNorm2d(channels, eps=eps, track_running_stats=False)
        self.bn_f = nn.BatchNorm2d(channels, eps=eps, track_running_stats=False)
        self.reset_parameters(steps)

    def reset_parameters(self, steps: int) -> None:
        """Orthogonal kernels, BN scale 0.1, chrono-initialised gate biases (Tallec & Ollivier)."""
        for weight in (self.w_s, self.w_f, self.gate_s.weight, self.gate_f.weight):
            nn.init.orthogonal_(weight)
        for bn in (self.bn_s, self.bn_f):
            nn.init.constant_(bn.weight, 0.1)
            nn.init.zeros_(bn.bias)
        with torch.no_grad():
            upper = max(float(steps) - 1.0, 1.0 + 1e-3)
            bias = torch.empty(self.channels).uniform_(1.0, upper).log()
            self.gate_s.bias.copy_(bias)
            self.gate_f.bias.copy_(-bias)

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        """The readable hidden activity of a state (the state itself)."""
        return state

    def forward(self, drive: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        pad = self.kernel // 2
        gate_s = torch.sigmoid(self.gate_s(state))
        c_s = self.bn_s(F.conv2d(state * gate_s, self.w_s, padding=pad))
        s = F.softplus(drive - F.softplus((self.alpha * state + self.mu) * c_s))
        gate_f = torch.sigmoid(self.gate_f(s))
        c_f = self.bn_f(F.conv2d(s, self.w_f, padding=pad))
        candidate = F.softplus(self.nu * (c_f + s) + self.omega * (c_f * s))
        return (1 - gate_f) * state + gate_f * candidate

    def extra_repr(self) -> str:
        return f"channels={self.channels}, kernel={self.kernel}x{self.kernel}"

