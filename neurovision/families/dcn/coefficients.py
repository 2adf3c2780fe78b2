"""Learnable filter parameters of an SRF layer: static or meta-parametrised by depth-time t.

Each module maps the ODE time ``t`` (None outside ODE blocks) to ``(log2 sigma, alpha)`` with
``alpha`` of shape ``(out, in, 6)`` and ``log2 sigma`` a scalar (one scale per layer) or
``(out, in)`` (one per filter, the sigma^ji variant). Initialisation follows Tomen et al. 2021,
appendix A.2: ``alpha ~ N(0, 0.1)``, ``log2 sigma ~ N(0, 2/3)``; the meta-parametrised forms of
Table 4 use the stated normal initialisations and see ``tau = 0.5 * clip(t, -0.5, 2.5)``.
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from .basis import N_BASIS

#: depth-times outside this interval are clipped before entering a meta-parametrisation
T_CLIP = (-0.5, 2.5)
#: factor applied to the clipped depth-time
T_SCALE = 0.5


def _normal(shape, std: float) -> nn.Parameter:
    return nn.Parameter(torch.randn(shape) * std)


class StaticCoefficients(nn.Module):
    """``alpha`` and ``log2 sigma`` that do not depend on t."""

    time_dependent = False

    def __init__(self, out_channels: int, in_channels: int, per_filter_scale: bool = False):
        super().__init__()
        self.alpha = _normal((out_channels, in_channels, N_BASIS), 0.1)
        self.log2_sigma = _normal((out_channels, in_channels) if per_filter_scale else (), 2.0 / 3.0)

    def forward(self, t=None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.log2_sigma, self.alpha


class _MetaCoefficients(nn.Module):
    """Base of the t-dependent forms: clips t (warning once) and scales it by :data:`T_SCALE`."""

    time_dependent = True

    def __init__(self, out_channels: int, in_channels: int):
        super().__init__()
        self.alpha = _normal((out_channels, in_channels, N_BASIS), 0.1)
        self._warned = False

    def tau(self, t) -> torch.Tensor:
        if t is None:
            raise ValueError("a meta-parametrised SRF layer needs the depth-time t")
        t = torch.as_tensor(t, dtype=self.alpha.dtype, device=self.alpha.device)
        low, high = T_CLIP
        if not self._warned and not (low <= float(t) <= high):
            self._warned = True
            warnings.warn(
                f"depth-time t = {float(t):.3g} lies outside [{low}, {high}]; it is clipped there "
                "before entering the meta-parametrised filters", RuntimeWarning, stacklevel=3)
        return T_SCALE * t.clamp(low, high)


class LinearScale(_MetaCoefficients):
    """``sigma = 2^(a tau + b)``; a ~ N(0, 2/3), b ~ N(0, 0.1)."""

    def __init__(self, out_channels: int, in_channels: int):
        super().__init__(out_channels, in_channels)
        self.scale_slope = _normal((), 2.0 / 3.0)
        self.scale_bias = _normal((), 0.1)

    def forward(self, t):
        tau = self.tau(t)
        return self.scale_slope * tau + self.scale_bias, self.alpha


class QuadraticScale(_MetaCoefficients):
    """``sigma = 2^(a tau^2 + b tau + c)``; a, b ~ N(0, 2/3), c ~ N(0, 0.1)."""

    def __init__(self, out_channels: int, in_channels: int):
        super().__init__(out_channels, in_channels)
        self.scale_quadratic = _normal((), 2.0 / 3.0)
        self.scale_slope = _normal((), 2.0 / 3.0)
        self.scale_bias = _normal((), 0.1)

    def forward(self, t):
        tau = self.tau(t)
        return (self.scale_quadratic * tau + self.scale_slope) * tau + self.scale_bias, self.alpha


class LinearScaleAndCoefficients(_MetaCoefficients):
    """``sigma = 2^(a_s tau + b_s)``, ``alpha = a_alpha tau + b_alpha``.

    a_s ~ N(0, 2/3), b_s ~ N(0, 0.1), a_alpha ~ N(0, 0.1) (stored as ``alpha``),
    b_alpha ~ N(0, 0.05).
    """

    def __init__(self, out_channels: int, in_channels: int):
        super().__init__(out_channels, in_channels)
        self.alpha_bias = _normal((out_channels, in_channels, N_BASIS), 0.05)
        self.scale_slope = _normal((), 2.0 / 3.0)
        self.scale_bias = _normal((), 0.1)

    def forward(self, t):
        tau = self.tau(t)
        return self.scale_slope * tau + self.scale_bias, self.alpha * tau + self.alpha_bias


PARAMETRISATIONS = {
    "static": StaticCoefficients,
    "sigma-linear": LinearScale,
    "sigma-quadratic": QuadraticScale,
    "sigma-alpha-linear": LinearScaleAndCoefficients,
}
