"""Rendered task stimuli: luminance images (H, W) in [0, 1], white items on a black screen.

* :func:`dot_array`: 1..N non-overlapping dots with the controls of Nieder, Freedman & Miller
  (2002): ``standard`` (random sizes and positions), ``area`` (the same total dot area for every
  numerosity) and ``density`` (the field grows with numerosity so that dots per unit area stay
  constant).
* :func:`saccade_cue`: a bright square at one of ``n`` locations on a ring around fixation
  (Funahashi, Bruce & Goldman-Rakic 1989).
* :class:`RandomDots`: random-dot motion frames following Roitman & Shadlen (2002): dots in a
  circular aperture drawn in ``interleave`` sets shown on successive frames; when a set comes
  back, each of its dots is displaced by ``step_px`` in the motion direction with probability
  ``coherence`` and replotted at random otherwise.

Sizes are in pixels; every function takes a numpy ``Generator`` or ``RandomState`` ``rng``.
Discs are anti-aliased (pixel value = covered fraction, 4x4 sub-samples per pixel).
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError, UnknownIdError

DOT_CONTROLS = ("standard", "area", "density")
SUPERSAMPLE = 4


def render_discs(shape: tuple[int, int], centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Image (H, W) with discs of ``radii`` at ``centres`` (K, 2) as (row, col) in px."""
    h, w = shape
    offsets = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE
    rows = (np.arange(h)[:, None] + offsets[None]).reshape(-1)
    cols = (np.arange(w)[:, None] + offsets[None]).reshape(-1)
    fine = np.zeros((h * SUPERSAMPLE, w * SUPERSAMPLE), dtype=bool)
    for (r, c), radius in zip(np.asarray(centres, float).reshape(-1, 2), np.asarray(radii, float).reshape(-1)):
        fine |= ((rows[:, None] - r) ** 2 + (cols[None, :] - c) ** 2) <= radius**2
    return fine.reshape(h, SUPERSAMPLE, w, SUPERSAMPLE).mean((1, 3)).astype(np.float32)


def uniform_in_disc(rng, n: int, radius: float) -> np.ndarray:
    """``n`` points (row, col offsets) uniform in a disc of ``radius`` px."""
    angle = rng.uniform(0, 2 * np.pi, n)
    dist = radius * np.sqrt(rng.uniform(0, 1, n))
    return np.stack([dist * np.sin(angle), dist * np.cos(angle)], -1)


def place_discs(rng, radii: np.ndarray, field_radius: float, centre, gap: float = 1.0,
                max_tries: int = 200, restarts: int = 50) -> np.ndarray:
    """Non-overlapping positions (K, 2) for discs of ``radii`` inside a circular field.

    Discs are placed one after another by rejection sampling; when one does not fit among those
    already placed (a crowded field where an early disc landed badly), the arrangement starts
    again, up to ``restarts`` times."""
    for radius in radii:
        if field_radius - radius <= 0:
            raise DataError(f"a dot of radius {radius:.1f} px does not fit a field of radius {field_radius:.1f} px")
    for _ in range(restarts):
        centres = []
        for radius in radii:
            room = field_radius - radius
            for _ in range(max_tries):
                p = np.asarray(centre, float) + uniform_in_disc(rng, 1, room)[0]
                if all(np.hypot(*(p - q)) >= radius + r + gap for q, r in zip(centres, radii)):
                    centres.append(p)
                    break
            else:
                break
        if len(centres) == len(radii):
            return np.array(centres)
    raise DataError(f"cannot place {len(radii)} non-overlapping dots in a field of radius "
                    f"{field_radius:.1f} px; use fewer or smaller dots or a larger image")


def dot_array(n: int, shape: tuple[int, int], rng, control: str = "standard", max_n: int = 5,
              radius_range: tuple[float, float] | None = None) -> np.ndarray:
    """``n`` white dots on black (H, W) under ``control`` ({controls}).

    The field is a disc of radius 0.42 min(H, W) px centred on the image (for ``density`` its
    area grows as ``n / max_n``). Dot radii are uniform in ``radius_range`` (default 5-10% of
    the image side); under ``area`` they are rescaled so the total dot area equals that of
    ``max_n / 2`` dots of the mean radius, whatever ``n``.
    """
    if control not in DOT_CONTROLS:
        raise UnknownIdError("numerosity control", control, list(DOT_CONTROLS))
    if not 1 <= n <= max_n:
        raise DataError(f"numerosity must lie in 1..{max_n}, got {n}")
    side = min(shape)
    low, high = radius_range or (0.05 * side, 0.10 * side)
    radii = rng.uniform(low, high, n)
    field = 0.42 * side
    if control == "area":
        target = np.pi * ((low + high) / 2) ** 2 * max_n / 2
        radii = radii * np.sqrt(target / (np.pi * np.sum(radii**2)))
    elif control == "density":
        field = max(field * np.sqrt(n / max_n), radii.max() + 1.0)
    centre = ((shape[0] - 1) / 2 + 0.5, (shape[1] - 1) / 2 + 0.5)
    return render_discs(shape, place_discs(rng, radii, field, centre), radii)


dot_array.__doc__ = dot_array.__doc__.format(controls=", ".join(DOT_CONTROLS))


def ring_position(k: int, n: int, shape: tuple[int, int], eccentricity: float) -> np.ndarray:
    """(row, col) px of location ``k`` of ``n`` on a ring (``eccentricity`` x image side);
    location 0 is to the right of fixation, angles increase counter-clockwise."""
    angle = 2 * np.pi * k / n
    radius = eccentricity * min(shape)
    return np.array([shape[0] / 2 - radius * np.sin(angle), shape[1] / 2 + radius * np.cos(angle)])


def saccade_cue(k: int, n: int, shape: tuple[int, int], eccentricity: float = 0.35,
                size: float = 0.12) -> np.ndarray:
    """A white square of side ``size`` x image side at ring location ``k`` of ``n``."""
    if not 0 <= k < n:
        raise DataError(f"cue location must lie in 0..{n - 1}, got {k}")
    r, c = ring_position(k, n, shape, eccentricity)
    half = size * min(shape) / 2
    rows = np.arange(shape[0])[:, None] + 0.5
    cols = np.arange(shape[1])[None, :] + 0.5
    cover_r = np.clip(np.minimum(rows + 0.5, r + half) - np.maximum(rows - 0.5, r - half), 0, 1)
    cover_c = np.clip(np.minimum(cols + 0.5, c + half) - np.maximum(cols - 0.5, c - half), 0, 1)
    return (cover_r * cover_c).astype(np.float32)


class RandomDots:
    """Random-dot motion in a circular aperture (Roitman & Shadlen 2002 algorithm).

    ``aperture`` is the aperture radius as a fraction of the image side, ``dots_per_frame`` the
    number of dots of each set, ``step_px`` the displacement of a coherent dot between two
    appearances of its set (``interleave`` frames apart), ``dot_radius`` in px.
    """

    def __init__(self, shape: tuple[int, int], aperture: float = 0.4, dots_per_frame: int = 8,
                 step_px: float = 1.5, interleave: int = 3, dot_radius: float = 0.8):
        if interleave < 1 or dots_per_frame < 1:
            raise DataError("need interleave >= 1 and dots_per_frame >= 1")
        self.shape, self.radius = tuple(shape), aperture * min(shape)
        self.n_dots, self.step, self.interleave, self.dot_radius = dots_per_frame, step_px, interleave, dot_radius
        self.centre = np.array([shape[0] / 2, shape[1] / 2])

    def _wrap(self, points: np.ndarray) -> np.ndarray:
        """Dots that left the aperture re-enter on the opposite side (mirrored through the centre)."""
        offset = points - self.centre
        outside = np.hypot(offset[:, 0], offset[:, 1]) > self.radius
        offset[outside] = -offset[outside] * 0.98
        return self.centre + offset

    def frames(self, n_frames: int, coherence: float, direction: float, rng) -> np.ndarray:
        """``n_frames`` frames (n, H, W); ``coherence`` in [0, 1], ``direction`` in radians
        (0 = rightward, pi = leftward)."""
        if not 0.0 <= coherence <= 1.0:
            raise DataError(f"coherence must lie in [0, 1] (a fraction), got {coherence}")
        move = self.step * np.array([-np.sin(direction), np.cos(direction)])
        sets = [self.centre + uniform_in_disc(rng, self.n_dots, self.radius) for _ in range(self.interleave)]
        out = np.empty((n_frames, *self.shape), dtype=np.float32)
        for t in range(n_frames):
            s = t % self.interleave
            if t >= self.interleave:
                coherent = rng.uniform(0, 1, self.n_dots) < coherence
                fresh = self.centre + uniform_in_disc(rng, self.n_dots, self.radius)
                sets[s] = np.where(coherent[:, None], self._wrap(sets[s] + move), fresh)
            out[t] = render_discs(self.shape, sets[s], np.full(self.n_dots, self.dot_radius))
        return out
