"""Gaussian-derivative (N-jet) basis of structured receptive fields, order 2.

A filter is ``F(x, y) = sum_f alpha_f G^(l_f, k_f)(x, y; sigma)`` where ``G^(l, k)`` is the
scale-normalised partial derivative ``sigma^(l+k) d^l/dx^l d^k/dy^k`` of the isotropic Gaussian
(Tomen et al. 2021, eq. 1). The basis is separable, ``G^(l, k) = g_l(x) g_k(y)``; the 1-D
Gaussian is sampled on integer pixel offsets and normalised to unit sum, and its derivatives are
``sigma g' = -u g`` and ``sigma^2 g'' = (u^2 - 1) g`` with ``u = x / sigma``. ``x`` runs along
image columns (width) and ``y`` along rows (height); sizes are in pixels.
"""
from __future__ import annotations

import math
import warnings

import torch

from ...errors import DivergenceError

#: derivative orders (along x, along y) of the six basis functions, in the order of ``alpha``
ORDERS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))
N_BASIS = len(ORDERS)
#: log2 of the smallest and largest scale (pixels) a filter may take; beyond it scales are clipped
LOG2_SIGMA_RANGE = (-3.0, 3.0)
#: spatial support of a filter in units of sigma on each side (the paper samples [-2 sigma, 2 sigma])
SUPPORT = 2.0


def half_width(sigma: float) -> int:
    """Half-width (pixels) of the sampling grid for scale ``sigma``: ``ceil(2 sigma + 0.5)``."""
    return int(math.ceil(SUPPORT * float(sigma) + 0.5))


def derivatives_1d(sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Scale-normalised 1-D Gaussian and its first two derivatives on ``-radius..radius`` px.

    ``sigma``: tensor of any shape ``S`` (pixels). Returns ``(*S, 3, 2 radius + 1)``.
    """
    x = torch.arange(-radius, radius + 1, dtype=sigma.dtype, device=sigma.device)
    u = x / sigma.unsqueeze(-1)
    g = torch.exp(-0.5 * u * u)
    g = g / g.sum(-1, keepdim=True)
    return torch.stack([g, -u * g, (u * u - 1.0) * g], dim=-2)


def basis_2d(sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """The six 2-D basis functions ``G^(l, k)``: ``(*S, 6, K, K)`` with rows = y, columns = x."""
    d = derivatives_1d(sigma, radius)
    return torch.stack([d[..., k, :, None] * d[..., l, None, :] for l, k in ORDERS], dim=-3)


def filters(alpha: torch.Tensor, sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Filters ``(out, in, K, K)`` from coefficients ``alpha (out, in, 6)`` and scales.

    ``sigma`` is a scalar (one scale per layer) or ``(out, in)`` (one per filter).
    """
    basis = basis_2d(sigma, radius)
    if sigma.ndim == 0:
        return torch.einsum("oif,fyx->oiyx", alpha, basis)
    return torch.einsum("oif,oifyx->oiyx", alpha, basis)


class ScaleGuard:
    """Turns learnable ``log2 sigma`` into a safe ``sigma``: clipped to :data:`LOG2_SIGMA_RANGE`.

    Clipping warns once per guarded layer; a NaN/Inf scale raises :class:`DivergenceError`
    (never a NaN filter).
    """

    def __init__(self, name: str):
        self.name = name
        self.warned = False

    def __call__(self, log2_sigma: torch.Tensor) -> torch.Tensor:
        if not bool(torch.isfinite(log2_sigma).all()):
            raise DivergenceError(
                f"SRF layer {self.name}: its scale log2(sigma) is NaN/Inf; training diverged. "
                "Lower the learning rate or clip gradients"
            )
        low, high = LOG2_SIGMA_RANGE
        value = log2_sigma.detach()
        if not self.warned and bool(((value < low) | (value > high)).any()):
            self.warned = True
            warnings.warn(
                f"SRF layer {self.name}: sigma left the stable range [{2 ** low:g}, {2 ** high:g}] px "
                f"(log2 sigma in [{float(value.min()):.2f}, {float(value.max()):.2f}]); "
                "it is clipped to that range",
                RuntimeWarning,
                stacklevel=3,
            )
        return torch.exp2(log2_sigma.clamp(low, high))
