"""Recurrent and inter-area weight matrices: full-rank, low-rank and sparse (optionally Dale's law).

Each connectivity is an ``nn.Module`` whose ``forward(r)`` returns the input current ``W r``
for rates ``r`` of shape (batch, n_pre), and whose ``weight()`` returns the dense matrix
``W`` (n_post, n_pre) for analysis.

* :class:`FullRank`: ``W`` free, initialised N(0, g^2 / n_pre).
* :class:`LowRank`: ``W = M N^T / n`` with M, N of shape (n, rank) (Mastrogiuseppe & Ostojic
  2018; Dubreuil et al. 2022); only ``rank`` directions of activity are fed back; its
  eigenvalues start near ``gain``.
* :class:`Sparse`: ``W = mask * W_free`` with a fixed Bernoulli(``density``) mask. With Dale's
  law (Song, Yang & Wang 2016) every presynaptic unit is excitatory or inhibitory:
  ``W = mask * |W_free| * sign``, sign = +1 for the first ``e_fraction`` of units, -1 for the
  rest; inhibitory weights are scaled by n_E / n_I so that each row is balanced at init, and
  the whole matrix so that its bulk spectral radius is ``gain``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ShapeError

KINDS = ("full", "low-rank", "sparse")


def dale_signs(n: int, e_fraction: float) -> torch.Tensor:
    """+1 for the first round(e_fraction * n) (excitatory) units, -1 for the others."""
    if not 0.0 < e_fraction < 1.0:
        raise ShapeError(f"e_fraction must lie in (0, 1), got {e_fraction}")
    n_exc = int(round(e_fraction * n))
    if n_exc in (0, n):
        raise ShapeError(f"{n} units with e_fraction {e_fraction} leave no E or no I unit; use more units")
    return torch.cat([torch.ones(n_exc), -torch.ones(n - n_exc)])


class FullRank(nn.Module):
    """Dense ``W`` (n_post, n_pre) with entries N(0, gain^2 / n_pre)."""

    def __init__(self, n_post: int, n_pre: int, gain: float = 1.0, generator=None):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n_post, n_pre, generator=generator) * gain / math.sqrt(n_pre))

    def weight(self) -> torch.Tensor:
        return self.w

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return r @ self.w.T


class LowRank(nn.Module):
    """``W = M N^T / n_pre`` of rank ``rank``.

    M has N(0, 1) entries and N = gain * M + Z with Z ~ N(0, 1) (square case), so that the
    ``rank`` non-zero eigenvalues of W start near ``gain``: like a full-rank matrix of spectral
    radius ``gain``, the initial network has slow modes through which gradients reach far back
    in time. For ``n_post != n_pre``, N is independent of M.
    """

    def __init__(self, n_post: int, n_pre: int, rank: int, gain: float = 1.0, generator=None):
        super().__init__()
        if not 1 <= rank <= min(n_post, n_pre):
            raise ShapeError(f"rank must be between 1 and {min(n_post, n_pre)}, got {rank}")
        self.rank = rank
        m = torch.randn(n_post, rank, generator=generator)
        n = torch.randn(n_pre, rank, generator=generator)
        if n_post == n_pre:
            n = n + gain * m
        self.m = nn.Parameter(m)
        self.n = nn.Parameter(n)

    def weight(self) -> torch.Tensor:
        return self.m @ self.n.T / self.n.shape[0]

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return (r @ self.n) @ self.m.T / self.n.shape[0]


class Sparse(nn.Module):
    """``W = mask * W_free`` with a fixed random mask; optionally sign-constrained (Dale).

    ``signs`` (n_pre,) of +-1 fixes the sign of every presynaptic unit's weights;
    ``presynaptic`` (n_pre,) bool keeps only those columns (e.g. long-range excitatory axons).
    """

    def __init__(self, n_post: int, n_pre: int, density: float, gain: float = 1.0,
                 signs: torch.Tensor | None = None, presynaptic: torch.Tensor | None = None,
                 generator=None):
        super().__init__()
        if not 0.0 < density <= 1.0:
            raise ShapeError(f"density must lie in (0, 1], got {density}")
        mask = (torch.rand(n_post, n_pre, generator=generator) < density).float()
        if presynaptic is not None:  # only these presynaptic units project (e.g. excitatory ones)
            mask = mask * presynaptic.float()[None, :]
        scale = gain / math.sqrt(density * n_pre)
        w = torch.randn(n_post, n_pre, generator=generator) * scale
        if signs is not None:
            if signs.shape != (n_pre,):
                raise ShapeError(f"signs must have shape ({n_pre},), got {tuple(signs.shape)}")
            n_exc, n_inh = int((signs > 0).sum()), int((signs < 0).sum())
            balance = torch.where(signs > 0, torch.ones(()), torch.tensor(n_exc / max(n_inh, 1)))
            w = w.abs() * balance
            effective = (w * signs * mask).flatten()
            if effective.numel() > 1 and effective.std() > 0:  # bulk spectral radius -> gain
                w = w * gain / (math.sqrt(n_pre) * float(effective.std()))
            self.register_buffer("signs", signs.float().clone())
        else:
            self.signs = None
        self.density = density
        self.register_buffer("mask", mask)
        self.w = nn.Parameter(w)

    def weight(self) -> torch.Tensor:
        w = self.w.abs() * self.signs if self.signs is not None else self.w
        return w * self.mask

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return r @ self.weight().T


def make_connectivity(kind: str, n_post: int, n_pre: int, *, rank: int = 1, density: float = 1.0,
                      gain: float = 1.0, signs: torch.Tensor | None = None, generator=None) -> nn.Module:
    """Build a connectivity of ``kind`` ({kinds}) from ``n_pre`` to ``n_post`` units.

    ``signs`` (n_pre,) imposes Dale's law; it needs the ``sparse`` kind (density 1 = dense).
    """
    if kind == "full" and signs is None:
        return FullRank(n_post, n_pre, gain, generator)
    if kind == "low-rank" and signs is None:
        return LowRank(n_post, n_pre, rank, gain, generator)
    if kind in ("full", "sparse"):
        return Sparse(n_post, n_pre, density if kind == "sparse" else 1.0, gain, signs, generator=generator)
    if kind == "low-rank":
        raise ShapeError("Dale's law cannot be imposed on a low-rank matrix; use kind 'sparse' or 'full'")
    from ..errors import UnknownIdError

    raise UnknownIdError("connectivity kind", kind, list(KINDS))


make_connectivity.__doc__ = make_connectivity.__doc__.format(kinds=", ".join(KINDS))
