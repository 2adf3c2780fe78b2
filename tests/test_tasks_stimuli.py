"""Rendered stimuli: numerosity controls, saccade cues, random-dot motion."""
import numpy as np
import pytest

from neurovision.data.stimuli import RandomDots, dot_array, place_discs, render_discs, saccade_cue
from neurovision.errors import DataError, UnknownIdError


def test_discs_are_antialiased_with_the_right_area():
    image = render_discs((40, 40), np.array([[20.0, 20.0]]), np.array([6.0]))
    assert abs(image.sum() - np.pi * 36) < 1.0 and 0 < image.min() + 1 and image.max() == 1


def test_area_control_keeps_total_dot_area_and_density_control_spreads_dots():
    rng = np.random.default_rng(0)
    areas = [dot_array(n, (48, 48), rng, "area").sum() for n in range(1, 6)]
    assert np.ptp(areas) < 0.05 * np.mean(areas)
    standard = [np.mean([dot_array(n, (48, 48), rng, "standard").sum() for _ in range(20)]) for n in (1, 5)]
    assert standard[1] > 3 * standard[0]

    def spread(n):
        rows, cols = np.nonzero(dot_array(n, (48, 48), rng, "density") > 0.5)
        return np.hypot(rows - 24, cols - 24).max()

    assert np.mean([spread(5) for _ in range(10)]) > 1.4 * np.mean([spread(2) for _ in range(10)])


def test_dot_array_rejects_bad_requests():
    rng = np.random.default_rng(0)
    with pytest.raises(UnknownIdError, match="density"):
        dot_array(2, (32, 32), rng, "densty")
    with pytest.raises(DataError, match="1..5"):
        dot_array(6, (32, 32), rng)
    with pytest.raises(DataError, match="cannot place"):
        dot_array(5, (32, 32), rng, radius_range=(7, 8))


def test_crowded_fields_restart_the_arrangement_instead_of_failing():
    """Two dots that fit only near opposite edges: a first dot near the middle leaves no room for
    the second, so the arrangement must start again (the density control's small fields)."""
    for seed in range(40):
        centres = place_discs(np.random.default_rng(seed), np.array([3.2, 3.2]), 7.5, (16.0, 16.0))
        assert np.hypot(*(centres[0] - centres[1])) >= 3.2 + 3.2 + 1.0
        assert (np.hypot(*(centres - 16.0).T) <= 7.5 - 3.2 + 1e-9).all()
    rng = np.random.default_rng(3)
    for n in range(1, 6):
        for control in ("standard", "area", "density"):
            assert all(dot_array(n, (32, 32), rng, control).max() == 1 for _ in range(20))


def test_saccade_cues_lie_on_a_ring():
    for k in range(8):
        rows, cols = np.nonzero(saccade_cue(k, 8, (40, 40)))
        angle = np.degrees(np.arctan2(20 - (rows.mean() + 0.5), cols.mean() + 0.5 - 20)) % 360
        assert abs((angle - 45 * k + 180) % 360 - 180) < 2


def _shift(a, b, max_shift=4):
    """Horizontal displacement (px) that best maps frame ``a`` onto frame ``b``."""
    scores = [np.sum(np.roll(a, s, axis=1) * b) for s in range(-max_shift, max_shift + 1)]
    return int(np.argmax(scores)) - max_shift


@pytest.mark.parametrize("direction, sign", [(0.0, 1), (np.pi, -1)])
def test_coherent_dots_move_by_the_step_in_the_motion_direction(direction, sign):
    dots = RandomDots((48, 48), dots_per_frame=12, step_px=2.0, interleave=3, dot_radius=1.0)
    frames = dots.frames(30, 1.0, direction, np.random.default_rng(1))
    shifts = [_shift(frames[t - 3], frames[t]) for t in range(3, 30)]
    assert np.median(shifts) == 2 * sign


def test_incoherent_dots_have_no_net_motion():
    dots = RandomDots((48, 48), dots_per_frame=12, step_px=2.0, interleave=1, dot_radius=1.0)
    frames = dots.frames(200, 0.0, 0.0, np.random.default_rng(2))
    shifts = [_shift(frames[t - 1], frames[t]) for t in range(1, 200)]
    assert abs(np.mean(shifts)) < 0.5
    with pytest.raises(DataError, match="fraction"):
        dots.frames(5, 51.2, 0.0, np.random.default_rng(0))
