"""Digitclutter (after Spoerer, McClure & Kriegeskorte 2017): several digits occluding each other.

Each image shows ``n_digits`` distinct digits (0-9) on a grey background, painted back to
front. Every digit has a flat random colour, a dark one-pixel outline, a random height among
``heights`` px and a random position that keeps it inside the image. A digit may be partly
occluded by the ones painted after it, but at least ``min_visible`` of its pixels stay visible
(otherwise the image is drawn again). Labels: the digits back to front (N, n_digits) and a
multi-hot vector (N, 10). Glyphs come from Pillow's built-in font, emboldened, so the set is
the same on every machine with the same Pillow.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..errors import DataError

BACKGROUND = 0.5
OUTLINE = 0.0


@lru_cache(maxsize=None)
def glyph(digit: int, height: int) -> np.ndarray:
    """Boolean mask (height, width) of ``digit`` rendered ``height`` px tall."""
    from PIL import Image, ImageDraw, ImageFont

    if not 0 <= digit <= 9 or height < 6:
        raise DataError(f"need a digit 0-9 and a height >= 6 px, got {digit} and {height}")
    big = 8 * height
    font = ImageFont.load_default(size=int(big * 1.35))
    canvas = Image.new("L", (2 * big, 2 * big), 0)
    ImageDraw.Draw(canvas).text((big // 4, 0), str(digit), fill=255, font=font,
                                stroke_width=max(1, big // 14), stroke_fill=255)
    crop = canvas.crop(canvas.getbbox())
    width = max(3, round(crop.width * height / crop.height))
    small = np.asarray(crop.resize((width, height), Image.LANCZOS), dtype=np.float32) / 255
    return small >= 0.5


def _outline(mask: np.ndarray) -> np.ndarray:
    """Mask grown by one pixel (4-neighbourhood), padded by one pixel on every side."""
    padded = np.pad(mask, 1)
    grown = padded.copy()
    grown[1:] |= padded[:-1]
    grown[:-1] |= padded[1:]
    grown[:, 1:] |= padded[:, :-1]
    grown[:, :-1] |= padded[:, 1:]
    return grown


@dataclass
class DigitclutterSet:
    """Images (N, 3, H, W) in [0, 1], digits (N, n) back to front, multi-hot labels (N, 10),
    and per digit its colour (N, n, 3), top-left corner (N, n, 2) and height (N, n) in px."""

    images: torch.Tensor
    digits: torch.Tensor
    labels: torch.Tensor
    colours: torch.Tensor
    corners: torch.Tensor
    heights: torch.Tensor
    name: str = "digitclutter"

    def __len__(self) -> int:
        return self.images.shape[0]


def _paint(image, mask, corner, colour):
    """Paint ``mask`` (outlined) with ``colour`` at ``corner`` (row, col) of ``image`` (3, H, W)."""
    r, c = corner
    ring = _outline(mask)
    h, w = ring.shape
    region = image[:, r - 1: r - 1 + h, c - 1: c - 1 + w]
    region[:, ring] = OUTLINE
    inner = np.zeros_like(ring)
    inner[1:-1, 1:-1] = mask
    region[:, inner] = np.asarray(colour, dtype=np.float32)[:, None]


def _visible(image, mask, corner, colour) -> int:
    """Pixels of ``mask`` at ``corner`` that still show ``colour``."""
    r, c = corner
    h, w = mask.shape
    patch = image[:, r: r + h, c: c + w]
    return int((np.all(patch == np.asarray(colour, dtype=np.float32)[:, None, None], axis=0) & mask).sum())


def digitclutter(n: int, n_digits: int = 3, size: int = 32, heights=(16, 18, 20), min_visible: float = 0.25,
                 seed: int = 0) -> DigitclutterSet:
    """``n`` Digitclutter images of ``size`` x ``size`` px with ``n_digits`` digits each."""
    if n < 1 or not 1 <= n_digits <= 10:
        raise DataError(f"need n >= 1 and 1 <= n_digits <= 10, got {n} and {n_digits}")
    if max(heights) + 2 > size:
        raise DataError(f"digits of {max(heights)} px do not fit {size} px images; use smaller heights")
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, size, size), dtype=np.float32)
    digits = np.empty((n, n_digits), dtype=np.int64)
    colours = np.empty((n, n_digits, 3), dtype=np.float32)
    corners = np.empty((n, n_digits, 2), dtype=np.int64)
    sizes = np.empty((n, n_digits), dtype=np.int64)
    for i in range(n):
        for _ in range(100):
            image = np.full((3, size, size), BACKGROUND, dtype=np.float32)
            ds = rng.choice(10, size=n_digits, replace=False)
            hs = rng.choice(heights, size=n_digits)
            cols = _distinct_colours(rng, n_digits)
            masks = [glyph(int(d), int(h)) for d, h in zip(ds, hs)]
            pos = [(int(rng.integers(1, size - m.shape[0])), int(rng.integers(1, size - m.shape[1]))) for m in masks]
            for m, p, col in zip(masks, pos, cols):
                _paint(image, m, p, col)
            if all(_visible(image, m, p, col) >= min_visible * m.sum() for m, p, col in zip(masks, pos, cols)):
                break
        else:
            raise DataError(f"could not keep {min_visible:.0%} of every digit visible; lower min_visible or n_digits")
        images[i], digits[i], colours[i], corners[i], sizes[i] = image, ds, cols, pos, hs
    multi_hot = np.zeros((n, 10), dtype=np.float32)
    np.put_along_axis(multi_hot, digits, 1.0, axis=1)
    return DigitclutterSet(torch.from_numpy(images), torch.from_numpy(digits), torch.from_numpy(multi_hot),
                           torch.from_numpy(colours), torch.from_numpy(corners), torch.from_numpy(sizes),
                           f"digitclutter-{n_digits}")


def _distinct_colours(rng: np.random.Generator, k: int, min_distance: float = 0.25) -> np.ndarray:
    """``k`` RGB colours (quantised to 1/255) far from each other, the background and the outline."""
    chosen: list[np.ndarray] = []
    avoid = [np.full(3, BACKGROUND), np.full(3, OUTLINE)]
    while len(chosen) < k:
        c = np.round(rng.uniform(0.0, 1.0, size=3) * 255) / 255
        if all(np.linalg.norm(c - a) >= min_distance for a in avoid + chosen):
            chosen.append(c)
    return np.stack(chosen).astype(np.float32)


def topk_error(logits: torch.Tensor, digits: torch.Tensor) -> torch.Tensor:
    """Per-image fraction of the n present digits missing from the n highest-scoring classes.

    For one digit this is the top-1 error; a chance read-out scores ``1 - n/10``.
    """
    n = digits.shape[1]
    top = logits.topk(n, dim=-1).indices
    hits = (top[:, :, None] == digits[:, None, :]).any(1).float().sum(1)
    return 1.0 - hits / n
