"""``baseline-pixels``: the image's luminance on a coarse grid, behind the leaky filter.

The model sees ``visual_degrees`` (8 deg, Brain-Score's default) on a ``grid x grid`` input
(24 x 24: 3 px/deg, one pixel per 1/3 deg). Scoring places the benchmark's images on this
screen exactly as for any model (:func:`~neurovision.brain.presentation.place_on_screen`:
gray canvas or centre crop by degrees), averages RGB to grayscale and resizes with an
antialiased bilinear filter (:func:`~neurovision.data.images.prepare_images`). Each pixel's
luminance in [0, 1] is one feature (576 for 24 x 24); gray (0.5) between images.
"""
from __future__ import annotations

import torch

from .temporal import LeakyFeatureModel


class PixelBaseline(LeakyFeatureModel):
    """Grayscale pixels on a ``grid x grid`` input over ``visual_degrees``; ``tau``, ``dt`` in ms."""

    areas = ("pixels",)

    def __init__(self, grid: int = 24, visual_degrees: float = 8.0, tau: float = 20.0, dt: float = 2.0):
        if int(grid) < 1:
            raise ValueError(f"grid must be >= 1 px, got {grid}")
        super().__init__((1, int(grid), int(grid)), visual_degrees, tau, dt)
        self.set_blank()

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return images
