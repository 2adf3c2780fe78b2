"""Bounded-memory activity reducers, applied to every recorded state on the fly.

A reducer maps one area's activity ``(batch, *area_shape)`` to features ``(batch, F)``; the
recorder applies it at every integration step before binning, so the full-resolution activity
of all stimuli and bins is never held. Reducers are linear, so reducing and then averaging
within a bin equals averaging and then reducing.

* :class:`Flatten`: every unit (small areas).
* :class:`SpatialPool`: average each channel over a ``grid x grid`` tiling of the feature map
  (``torch.nn.functional.adaptive_avg_pool2d``), C*grid^2 features; cheap and deterministic.
* :class:`PCAProjection`: projection on principal components fitted on a separate image set
  (never the scored stimuli), optionally after spatial pooling; the Brain-Score way.

:func:`auto_reducer` keeps areas with at most ``max_features`` units whole and pools larger
convolutional areas to the finest grid that fits.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ShapeError


class Flatten:
    """All units of the area, flattened."""

    def __call__(self, area: str, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)

    def describe(self) -> str:
        return "flatten"


class SpatialPool:
    """Channel means over a ``grid x grid`` tiling of (batch, C, H, W) maps; other shapes flattened."""

    def __init__(self, grid: int):
        if int(grid) < 1:
            raise ValueError(f"pooling grid must be >= 1, got {grid}")
        self.grid = int(grid)

    def __call__(self, area: str, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 4:
            x = F.adaptive_avg_pool2d(x, min(self.grid, x.shape[-1], x.shape[-2]))
        return x.reshape(x.shape[0], -1)

    def describe(self) -> str:
        return f"spatial-pool-{self.grid}x{self.grid}"


class PCAProjection:
    """``(pre(x) - mean) @ components`` per area; components (F, k) fitted by :func:`fit_pca`."""

    def __init__(self, mean: dict, components: dict, pre=None, n_fit: int = 0):
        self.mean, self.components, self.pre, self.n_fit = mean, components, pre or Flatten(), n_fit

    def __call__(self, area: str, x: torch.Tensor) -> torch.Tensor:
        if area not in self.components:
            raise ShapeError(f"no PCA fitted for area {area!r}; fitted: {sorted(self.components)}")
        flat = self.pre(area, x)
        return (flat - self.mean[area].to(flat)) @ self.components[area].to(flat)

    def describe(self) -> str:
        k = {a: c.shape[1] for a, c in self.components.items()}
        return f"pca{k} on {self.n_fit} separate images after {self.pre.describe()}"


class PerArea:
    """A different reducer for each area (see :func:`auto_reducer`)."""

    def __init__(self, reducers: dict):
        self.reducers = dict(reducers)

    def __call__(self, area: str, x: torch.Tensor) -> torch.Tensor:
        return self.reducers.get(area, Flatten())(area, x)

    def describe(self) -> str:
        return ", ".join(f"{a}: {r.describe()}" for a, r in self.reducers.items())


def pool_grid(shape: tuple[int, ...], max_features: int) -> int | None:
    """Largest grid g with C*g*g <= max_features for a (C, H, W) area; None if it fits whole."""
    if int(np.prod(shape)) <= max_features or len(shape) != 3:
        return None
    channels, height, width = shape
    return max(1, min(height, width, int(math.isqrt(max(1, max_features // channels)))))


def auto_reducer(model, areas, max_features: int = 1024) -> PerArea:
    """Flatten small areas, spatially pool (C, H, W) areas with more than ``max_features`` units."""
    reducers = {}
    for area in areas:
        grid = pool_grid(tuple(model.area_shape(area)), max_features)
        reducers[area] = Flatten() if grid is None else SpatialPool(grid)
    return PerArea(reducers)


def fit_pca(samples: torch.Tensor, n_components: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (F,) and top principal axes (F, k) of ``samples`` (n, F), via the n x n Gram matrix."""
    x = samples.double()
    mean = x.mean(0)
    x = x - mean
    k = min(n_components, x.shape[0] - 1)
    if k < 1:
        raise ShapeError(f"PCA needs at least 2 samples, got {x.shape[0]}")
    values, vectors = torch.linalg.eigh(x @ x.T)
    values, vectors = values.flip(0)[:k], vectors.flip(1)[:, :k]
    keep = values > values[0] * 1e-10
    axes = (x.T @ vectors[:, keep]) / values[keep].sqrt()
    return mean.float(), axes.float()
