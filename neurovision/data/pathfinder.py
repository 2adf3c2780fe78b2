"""Pathfinder stimuli (after Linsley et al. 2018): are two dots joined by one dashed contour?

Every image holds two dashed contours of ``length`` dashes, two round markers ("dots") and short
distractor dashes. In a positive image (label 1) both dots sit at the two ends of the same
contour; in a negative image (label 0) each contour carries one dot. Both classes show the same
number of contours, dashes and dots; only their connectivity differs. Difficulty grows with
``length`` (6, 14, 20 ... dashes).

Geometry (px): dashes of length ``dash`` and stroke ``width`` separated by ``gap``; consecutive
dashes turn by at most ``turn`` radians; dots of radius ``dot_radius`` sit one ``gap`` beyond a
contour's end. Ink pixels (value > 0) of different elements stay more than ``clearance`` px
apart. With the defaults (gap <= 1.5, width 1, clearance 3.2) dilating the ink by one pixel
(4-neighbourhood) joins every contour with its dots into one 8-connected piece and never joins
two different elements, so a flood fill recovers every label (see the tests).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError
from .datasets import LabelledImages


@dataclass(frozen=True)
class PathfinderStyle:
    """Rendering parameters (px, radians); the defaults suit 40 x 40 images and 6-dash contours."""

    size: int = 40
    length: int = 6
    dash: float = 2.5
    gap: float = 1.5
    turn: float = math.pi / 6
    dot_radius: float = 1.2
    width: float = 1.0
    distractors: int = 4
    clearance: float = 3.2

    def check(self) -> None:
        if self.length < 1 or self.size < 8:
            raise DataError(f"need length >= 1 dash and size >= 8 px, got {self.length}, {self.size}")
        if min(self.dash, self.gap, self.width, self.dot_radius) <= 0 or self.clearance < 0:
            raise DataError("dash, gap, width and dot_radius must be > 0 px and clearance >= 0 px")


def _distance(rows, cols, a, b) -> np.ndarray:
    """Distance of pixel centres (rows, cols; broadcastable) to the segment a-b (row, col)."""
    d0, d1 = b[0] - a[0], b[1] - a[1]
    length2 = d0 * d0 + d1 * d1
    pr, pc = rows - a[0], cols - a[1]
    u = 0.0 if length2 == 0 else np.clip((pr * d0 + pc * d1) / length2, 0, 1)
    return np.hypot(pr - u * d0, pc - u * d1)


class _Canvas:
    """Image under construction: ink, and which element claims the pixels around each stroke."""

    def __init__(self, style: PathfinderStyle):
        self.style = style
        self.image = np.zeros((style.size, style.size), dtype=np.float32)
        self.owner = np.zeros((style.size, style.size), dtype=np.int32)  # 0 free, -1 shared
        self.margin = style.dot_radius + 1.0

    def _patch(self, a, b, reach):
        lo = np.floor(np.minimum(a, b) - reach).astype(int).clip(0, self.style.size - 1)
        hi = np.ceil(np.maximum(a, b) + reach).astype(int).clip(0, self.style.size - 1) + 1
        rows, cols = np.ogrid[lo[0]: hi[0], lo[1]: hi[1]]
        return (slice(lo[0], hi[0]), slice(lo[1], hi[1])), _distance(rows, cols, a, b)

    def place(self, a, b, radius: float, owner: int, draw: bool = True) -> bool:
        """Claim (and ``draw``) segment a-b (radius px) for ``owner`` unless it leaves the image or
        comes closer than the clearance to another owner's claims; return whether it was placed."""
        lo, hi = self.margin, self.style.size - 1 - self.margin
        if not all(lo <= p[i] <= hi for p in (a, b) for i in (0, 1)):
            return False
        reach = radius + 0.5 + self.style.clearance
        window, dist = self._patch(a, b, reach)
        ink = dist < radius + 0.5
        claims = self.owner[window]
        if ((claims[ink] != 0) & (claims[ink] != owner)).any():
            return False
        region = dist < reach
        claims[region] = np.where((claims[region] == 0) | (claims[region] == owner), owner, -1)
        if draw:
            self.draw(window, dist, radius)
        return True

    def draw(self, window, dist, radius: float) -> None:
        """Anti-aliased ink: 1 within ``radius`` of the centre line, a linear 1-px edge outside."""
        value = np.clip(radius + 0.5 - dist, 0, 1).astype(np.float32)
        np.maximum(self.image[window], value, out=self.image[window])

    def draw_dot(self, centre, radius: float) -> None:
        self.draw(*self._patch(centre, centre, radius + 1.0), radius)


def _contour(canvas: _Canvas, rng: np.random.Generator, owner: int, tries: int = 30,
             steer: int = 6) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Draw a contour of ``length`` dashes for ``owner`` and claim room for a dot at each end;
    return its dashes as (start, end) pairs, or None.

    The first dash heads within 90 degrees of the image centre; each next dash turns by a random
    angle in [-turn, turn] (up to ``steer`` angles are tried). A failed try is erased.
    """
    s = canvas.style
    for _ in range(tries):
        saved = canvas.image.copy(), canvas.owner.copy()
        point = rng.uniform(canvas.margin, s.size - 1 - canvas.margin, size=2)
        to_centre = (s.size - 1) / 2 - point
        angle = math.atan2(to_centre[0], to_centre[1]) + rng.uniform(-math.pi / 2, math.pi / 2)
        dashes: list[tuple[np.ndarray, np.ndarray]] = []
        for k in range(s.length):
            turns = rng.uniform(-s.turn, s.turn, size=steer) if k else np.zeros(1)
            for turn in turns:
                direction = np.array([math.sin(angle + turn), math.cos(angle + turn)])
                start = point + s.gap * direction if k else point
                end = start + s.dash * direction
                if _clear_of_own(dashes[:-2], start, end, s) and canvas.place(start, end, s.width / 2, owner):
                    dashes.append((start, end))
                    angle, point = angle + turn, end
                    break
            else:
                break
        if len(dashes) == s.length and all(
            canvas.place(c, c, s.dot_radius, owner, draw=False) for c in _dot_centres(dashes, s)
        ):
            return dashes
        canvas.image, canvas.owner = saved
    return None


def _clear_of_own(dashes, start, end, s: PathfinderStyle) -> bool:
    """A new dash stays ``clearance`` + width px from the contour's dashes three or more back."""
    limit = s.clearance + s.width
    points = np.stack([start, end, 0.5 * (start + end)])
    return all(_distance(points[:, 0], points[:, 1], a, b).min() >= limit for a, b in dashes)


def _dot_centres(dashes, s: PathfinderStyle) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the dots one gap beyond the start and the end of a contour."""
    (a0, b0), (a1, b1) = dashes[0], dashes[-1]
    return (a0 + (s.gap + s.dot_radius) * (a0 - b0) / np.linalg.norm(a0 - b0),
            b1 + (s.gap + s.dot_radius) * (b1 - a1) / np.linalg.norm(b1 - a1))


def _scene(rng: np.random.Generator, s: PathfinderStyle, positive: bool):
    """(image, dot centres (2, 2)) of one stimulus, or None when the elements did not fit."""
    canvas = _Canvas(s)
    contours = []
    for owner in (1, 2):
        dashes = _contour(canvas, rng, owner)
        if dashes is None:
            return None
        contours.append(dashes)
    if positive:
        ends = [(1, True), (1, False)]
    else:
        ends = [(1, bool(rng.integers(2))), (2, bool(rng.integers(2)))]
    dots = [_dot_centres(contours[owner - 1], s)[0 if at_start else 1] for owner, at_start in ends]
    for centre in dots:
        canvas.draw_dot(centre, s.dot_radius)
    placed = 0
    for _ in range(30 * s.distractors):
        if placed == s.distractors:
            break
        centre = rng.uniform(0, s.size, size=2)
        angle = rng.uniform(0, math.pi)
        half = 0.5 * s.dash * np.array([math.sin(angle), math.cos(angle)])
        placed += canvas.place(centre - half, centre + half, s.width / 2, 10 + placed)
    return canvas.image, np.stack(dots)


@dataclass
class PathfinderSet(LabelledImages):
    """Pathfinder images (N, 1, H, W), labels (1 = connected) and dot centres (N, 2, 2) (row, col)."""

    dots: torch.Tensor | None = None
    style: PathfinderStyle | None = None


def default_size(length: int) -> int:
    """Image side (px) that fits two ``length``-dash contours: 40, 64, 80 px for 6, 14, 20 dashes."""
    return 8 * math.ceil((3 * length + 18) / 8)


def pathfinder(n: int, length: int = 6, size: int | None = None, seed: int = 0, balance: bool = True,
               **style) -> PathfinderSet:
    """``n`` Pathfinder images with contours of ``length`` dashes on ``size`` x ``size`` px
    (default :func:`default_size`).

    Labels alternate 1/0 (``balance``) or are drawn at random. Extra keyword arguments set
    :class:`PathfinderStyle` fields. The same arguments always give the same images.
    """
    if n < 1:
        raise DataError(f"n must be >= 1, got {n}")
    size = default_size(length) if size is None else size
    s = PathfinderStyle(size=size, length=length, **style)
    s.check()
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, size, size), dtype=np.float32)
    labels = np.zeros(n, dtype=np.int64)
    dots = np.zeros((n, 2, 2), dtype=np.float64)
    for i in range(n):
        positive = (i % 2 == 0) if balance else bool(rng.integers(2))
        for _ in range(100):
            scene = _scene(rng, s, positive)
            if scene is not None:
                break
        else:
            raise DataError(
                f"could not place two {length}-dash contours in {size} x {size} px; "
                "use larger images, fewer dashes or a smaller clearance"
            )
        images[i, 0], dots[i] = scene
        labels[i] = int(positive)
    return PathfinderSet(torch.from_numpy(images), torch.from_numpy(labels), ("disconnected", "connected"),
                         f"pathfinder-{length}", torch.from_numpy(dots), s)
