"""Structured-receptive-field convolution: filters are Gaussian-derivative combinations.

``SRFConv2d`` learns ``alpha`` and ``sigma`` (see :mod:`.coefficients`); the kernel covers
``-r..r`` px with ``r = ceil(2 sigma + 0.5)`` (a fixed 7x7 support, r = 3, for one scale per
filter). Two exact evaluation paths, chosen per call by the current radius:

* ``direct`` (r < :data:`SEPARABLE_MIN_RADIUS`, strided layers, one scale per filter): build the
  ``(out, in, K, K)`` filter bank and call ``conv2d``; ``in out K^2`` multiply-adds per pixel.
* ``separable`` (one scale per layer, stride 1, r >= :data:`SEPARABLE_MIN_RADIUS`): the basis is separable, so mix
  the input channels with ``alpha`` (a 1x1 convolution to ``6 out`` maps), filter each map with
  its 1-D basis function along x, then along y, and sum the six maps of every output channel;
  ``6 in out + 12 (2r + 1) out`` multiply-adds per pixel, linear instead of quadratic in K.

With ``time_channel=True`` the layer sees ``[t, h]`` (t as a constant extra input channel,
the paper's ``d t`` term); its response ``t * conv(1, F_t)`` is computed once per size and
added, which equals convolving the concatenated input.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .basis import ORDERS, ScaleGuard, derivatives_1d, filters, half_width
from .cache import CachedWeights
from .coefficients import PARAMETRISATIONS, StaticCoefficients

#: half-width (px) of the fixed support of per-filter-scale layers (7x7 kernels)
PER_FILTER_RADIUS = 3
#: smallest radius (px) evaluated by the separable path (below it ``conv2d`` is faster on CPU)
SEPARABLE_MIN_RADIUS = 5


class SRFConv2d(CachedWeights):
    """SRF convolution ``(B, in, H, W) -> (B, out, H', W')``, zero padding ``r``, no bias."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, time_channel: bool = False,
                 per_filter_scale: bool = False, parametrisation: str = "static", name: str = "srf"):
        super().__init__()
        if parametrisation not in PARAMETRISATIONS:
            raise ValueError(f"parametrisation {parametrisation!r} unknown; choose from {sorted(PARAMETRISATIONS)}")
        if per_filter_scale and parametrisation != "static":
            raise ValueError("one scale per filter is only available with the static parametrisation")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.time_channel = time_channel
        n_in = in_channels + int(time_channel)
        if per_filter_scale:
            self.coefficients = StaticCoefficients(out_channels, n_in, per_filter_scale=True)
        else:
            self.coefficients = PARAMETRISATIONS[parametrisation](out_channels, n_in)
        self.per_filter_scale = per_filter_scale
        self.can_separate = not per_filter_scale and stride == 1
        self.min_separable_radius = SEPARABLE_MIN_RADIUS
        self.guard = ScaleGuard(name)

    def sigma(self, t=None) -> torch.Tensor:
        """Scale(s) in px at depth-time ``t`` after clipping: scalar or ``(out, in)``."""
        return self.guard(self.coefficients(t)[0])

    def radius(self, sigma: torch.Tensor) -> int:
        return PER_FILTER_RADIUS if self.per_filter_scale else half_width(float(sigma.detach()))

    def weight(self, t=None) -> torch.Tensor:
        """The full filter bank ``(out, in (+1 time channel first), K, K)``."""
        log2_sigma, alpha = self.coefficients(t)
        sigma = self.guard(log2_sigma)
        return filters(alpha, sigma, self.radius(sigma))

    def _build(self, t, size: tuple[int, int]) -> dict:
        log2_sigma, alpha = self.coefficients(t)
        sigma = self.guard(log2_sigma)
        r = self.radius(sigma)
        separable = self.can_separate and r >= self.min_separable_radius
        out = {"radius": r, "separable": separable}
        if self.time_channel:
            time_filter = filters(alpha[:, :1], sigma[:, :1] if sigma.ndim else sigma, r)
            ones = alpha.new_ones(1, 1, *size)
            out["time"] = F.conv2d(ones, time_filter, stride=self.stride, padding=r)
            alpha = alpha[:, 1:]
            sigma = sigma[:, 1:] if sigma.ndim else sigma
        if not separable:
            out["full"] = filters(alpha, sigma, r).contiguous()
            return out
        d = derivatives_1d(sigma, r)
        k = 2 * r + 1
        out["mix"] = alpha.permute(0, 2, 1).reshape(-1, alpha.shape[1], 1, 1)
        out["x"] = d[[l for l, _ in ORDERS]].repeat(self.out_channels, 1).view(-1, 1, 1, k)
        out["y"] = d[[k_ for _, k_ in ORDERS]].repeat(self.out_channels, 1).view(-1, 1, k, 1)
        return out

    def forward(self, h: torch.Tensor, t=None) -> torch.Tensor:
        if h.ndim != 4 or h.shape[1] != self.in_channels:
            from ...errors import ShapeError

            raise ShapeError(f"SRF layer {self.guard.name} expects (B, {self.in_channels}, H, W), got {tuple(h.shape)}")
        if self.time_channel and t is None:
            raise ValueError(f"SRF layer {self.guard.name} has a time channel; pass the depth-time t")
        size = tuple(h.shape[-2:])
        if self.coefficients.time_dependent:
            w = self._build(t, size)
        else:
            w = self.cached("weights", (size, h.dtype, h.device), lambda: self._build(None, size))
        r = w["radius"]
        if w["separable"]:
            z = F.conv2d(h, w["mix"])
            z = F.conv2d(z, w["x"], padding=(0, r), groups=z.shape[1])
            z = F.conv2d(z, w["y"], padding=(r, 0), groups=z.shape[1])
            y = z.view(z.shape[0], self.out_channels, len(ORDERS), *z.shape[2:]).sum(2)
        else:
            y = F.conv2d(h, w["full"], stride=self.stride, padding=r)
        if self.time_channel:
            y = y + torch.as_tensor(t, dtype=y.dtype, device=y.device) * w["time"]
        return y

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, stride={self.stride}, "
                f"time_channel={self.time_channel}, per_filter_scale={self.per_filter_scale}")
