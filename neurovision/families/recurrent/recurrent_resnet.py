"""Recurrent residual networks of Lippl, Peters & Kriegeskorte (2024).

Architecture: a 3 x 3 stem convolution to ``width`` channels, then ``stages`` stages of
``blocks`` residual blocks at widths ``width * 2**s``, a downsampling layer (BN, ReLU, 3 x 3
convolution of stride 2 doubling the channels) between stages, and a head (BN, ReLU, global
average pooling, linear). Each block holds a pre-activation residual function (He et al. 2016)::

    f(z) = Conv2(ReLU(BN2(Conv1(ReLU(BN1(z))))))

applied as ``z + f(z)`` (ordinary ResNet and the *improperly convergent* ICR) or ``x + f(z)``
with ``x`` the stage input (the *properly convergent* PCR).

Recurrence is controlled by

* ``coupling`` lambda in [0, 1] (soft gradient coupling): the gradients Delta_t of corresponding
  parameters of the blocks in a stage become ``(1 - lambda) Delta_t + lambda mean_t(Delta_t)``.
  lambda = 1 with recurrent initialisation keeps the blocks identical (a recurrent ResNet); batch
  norm statistics stay per block, its parameters are coupled;
* ``recurrent_init``: every block of a stage starts from the same weights.

Convergence is controlled by spectral normalisation (``mu``): ``f <- f / c`` with
``c = max(L/mu, 1)`` where ``L = ||Conv2||_2 ||BN2 o Conv1 o BN1||_2`` bounds the Lipschitz
constant of ``f`` (ReLU is 1-Lipschitz and the diagonal BN scalings commute with it). The two
spectral norms are estimated by power iteration on the operators themselves (convolutions
with the stage's spatial size; BN as the diagonal scaling ``gamma / sqrt(running_var + eps)``),
with persistent vectors updated once per training forward pass (Yoshida & Miyato 2017).

Every stage can run a custom sequence of its blocks (:meth:`RecurrentResNet.forward` with
``stage`` and ``sequence``), which the convergence indices of
:mod:`neurovision.analysis.convergence` use: early read-out, dropping a block, repeating the last.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ...errors import NeurovisionError, ShapeError

RESIDUALS = ("z", "x")


class _CoupleGradients(torch.autograd.Function):
    """Identity on T tensors whose backward mixes their gradients with lambda."""

    @staticmethod
    def forward(ctx, lam, *tensors):
        ctx.lam = lam
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        present = [g for g in grads if g is not None]
        mean = torch.stack(present).mean(0) if present else None
        mixed = tuple(None if g is None else (1 - ctx.lam) * g + ctx.lam * mean for g in grads)
        return (None, *mixed)


def couple_gradients(tensors: Sequence[torch.Tensor], lam: float) -> tuple[torch.Tensor, ...]:
    """The same tensors; in backward their gradients become ``(1-lam) g_t + lam mean_t g_t``.

    A missing gradient (block not used) counts as absent from the mean.
    """
    return _CoupleGradients.apply(float(lam), *tensors)


def _bn_scale(bn: nn.BatchNorm2d) -> torch.Tensor:
    """Diagonal of the linear part of batch norm with its running statistics: (C, 1, 1)."""
    return (bn.weight / torch.sqrt(bn.running_var + bn.eps)).view(-1, 1, 1)


class ResidualFunction(nn.Module):
    """Pre-activation residual function of one block with optional spectral normalisation.

    ``channels``: width; ``spatial``: (H, W) of the stage (for the power-iteration vectors);
    ``mu``: Lipschitz bound (None: no normalisation).
    """

    def __init__(self, channels: int, spatial: tuple[int, int], mu: float | None = None):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.mu = mu
        if mu is not None:
            if not 0 < mu:
                raise NeurovisionError(f"the Lipschitz bound mu must be > 0, got {mu}")
            gen = torch.Generator().manual_seed(0)
            for name in ("v1", "v2"):
                v = torch.randn(1, channels, *spatial, generator=gen)
                self.register_buffer(name, v / v.norm())

    # linear operators and their adjoints --------------------------------------------------------
    def _first(self, v):
        return _bn_scale(self.bn2) * self.conv1(_bn_scale(self.bn1) * v)

    def _first_t(self, u):
        return _bn_scale(self.bn1) * F.conv_transpose2d(_bn_scale(self.bn2) * u, self.conv1.weight, padding=1)

    def _second(self, v):
        return self.conv2(v)

    def _second_t(self, u):
        return F.conv_transpose2d(u, self.conv2.weight, padding=1)

    def power_iteration(self, iterations: int = 1) -> None:
        """Refine the persistent singular-vector estimates (no graph)."""
        with torch.no_grad():
            for name, op, op_t in (("v1", self._first, self._first_t), ("v2", self._second, self._second_t)):
                v = getattr(self, name)
                for _ in range(iterations):
                    v = op_t(op(v))
                    v = v / v.norm().clamp_min(1e-12)
                getattr(self, name).copy_(v)

    def lipschitz_bound(self) -> torch.Tensor:
        """``L = ||Conv2|| ||BN2 o Conv1 o BN1||`` from the current vectors (differentiable)."""
        return self._first(self.v1).norm() * self._second(self.v2).norm()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(z))))))
        if self.mu is None:
            return out
        if self.training:
            self.power_iteration(1)
        scale = torch.clamp(self.lipschitz_bound() / self.mu, min=1.0)
        return out / scale


class Stage(nn.Module):
    """``blocks`` residual blocks of one width applied in sequence (see the module docstring)."""

    def __init__(self, channels: int, blocks: int, spatial: tuple[int, int], residual: str = "z",
                 mu: float | None = None, coupling: float = 0.0, recurrent_init: bool = False):
        super().__init__()
        if residual not in RESIDUALS:
            raise NeurovisionError(f"residual must be one of {RESIDUALS} (z + f(z) or x + f(z)), got {residual!r}")
        if not 0.0 <= coupling <= 1.0:
            raise NeurovisionError(f"coupling lambda must lie in [0, 1], got {coupling}")
        if blocks < 1:
            raise NeurovisionError(f"a stage needs >= 1 block, got {blocks}")
        first = ResidualFunction(channels, spatial, mu)
        self.blocks = nn.ModuleList(
            [first] + [copy.deepcopy(first) if recurrent_init else ResidualFunction(channels, spatial, mu)
                       for _ in range(blocks - 1)]
        )
        self.residual, self.coupling = residual, float(coupling)

    def _block_calls(self):
        """One callable per block; with coupling (training) they use gradient-coupled parameters."""
        if not (self.training and self.coupling > 0 and len(self.blocks) > 1):
            return list(self.blocks)
        names = [n for n, _ in self.blocks[0].named_parameters()]
        per_name = [couple_gradients([dict(b.named_parameters())[n] for b in self.blocks], self.coupling)
                    for n in names]
        calls = []
        for t, block in enumerate(self.blocks):
            params = {n: per_name[i][t] for i, n in enumerate(names)}
            calls.append(lambda z, block=block, params=params: functional_call(block, params, (z,)))
        return calls

    def forward(self, x: torch.Tensor, sequence: Sequence[int] | None = None) -> torch.Tensor:
        """Apply the blocks listed in ``sequence`` (0-based, default all in order) to ``x``."""
        calls = self._block_calls()
        order = range(len(calls)) if sequence is None else sequence
        z = x
        for t in order:
            update = calls[t](z)
            z = (z if self.residual == "z" else x) + update
        return z


class RecurrentResNet(nn.Module):
    """Image classifier of ``stages`` stages of ``blocks`` residual blocks (see module docstring).

    ``residual``: "z" (ordinary / ICR) or "x" (PCR); ``mu``: spectral-normalisation bound (None
    = off; 0.95 in the paper); ``coupling``: soft gradient coupling lambda; ``recurrent_init``.
    """

    def __init__(self, input_shape=(3, 32, 32), classes: int = 10, width: int = 16, blocks: int = 4,
                 stages: int = 3, residual: str = "z", mu: float | None = None, coupling: float = 0.0,
                 recurrent_init: bool = False):
        super().__init__()
        self.input_shape = tuple(int(v) for v in input_shape)
        c, h, w = self.input_shape
        self.stem = nn.Conv2d(c, width, 3, padding=1, bias=False)
        self.stages, self.downsample = nn.ModuleList(), nn.ModuleList()
        for s in range(stages):
            self.stages.append(Stage(width * 2**s, blocks, (h, w), residual, mu, coupling, recurrent_init))
            if s < stages - 1:
                self.downsample.append(nn.Sequential(
                    nn.BatchNorm2d(width * 2**s), nn.ReLU(),
                    nn.Conv2d(width * 2**s, width * 2 ** (s + 1), 3, stride=2, padding=1, bias=False)))
                h, w = (h + 1) // 2, (w + 1) // 2
        top = width * 2 ** (stages - 1)
        self.head = nn.Sequential(nn.BatchNorm2d(top), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(top, classes))
        self.classes = classes

    @property
    def stage_lengths(self) -> list[int]:
        """Number of blocks of every stage."""
        return [len(s.blocks) for s in self.stages]

    def forward(self, images: torch.Tensor, stage: int | None = None,
                sequence: Sequence[int] | None = None) -> torch.Tensor:
        """Logits (B, classes); stage ``stage`` applies its blocks in ``sequence`` (0-based)."""
        return self.head[-1](self.features(images, stage, sequence).mean((2, 3)))

    def features(self, images: torch.Tensor, stage: int | None = None,
                 sequence: Sequence[int] | None = None) -> torch.Tensor:
        """The last stage's rectified, normalised map (B, top width, H', W') that the head pools."""
        if images.ndim != 4 or tuple(images.shape[1:]) != self.input_shape:
            raise ShapeError(f"images must be (B, {', '.join(map(str, self.input_shape))}), got {tuple(images.shape)}")
        h = self.stem(images)
        for s, block_stage in enumerate(self.stages):
            h = block_stage(h, sequence if s == stage else None)
            if s < len(self.downsample):
                h = self.downsample[s](h)
        return self.head[1](self.head[0](h))

    def run(self, images: torch.Tensor, stage: int, sequence: Sequence[int]) -> torch.Tensor:
        """Logits with stage ``stage`` running ``sequence`` (the convergence-index interface)."""
        return self(images, stage, sequence)

    def residual_functions(self):
        """Every :class:`ResidualFunction`, stage by stage."""
        return [f for s in self.stages for f in s.blocks]

    def converge_spectral_norms(self, iterations: int = 50) -> None:
        """Run ``iterations`` power-iteration steps on every spectrally normalised block."""
        for f in self.residual_functions():
            if f.mu is not None:
                f.power_iteration(iterations)
