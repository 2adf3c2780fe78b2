"""Planted ring, line and discrete attractors are recognised as such."""
import numpy as np
import pytest
import torch

from neurovision.analysis import characterise_attractor, find_fixed_points
from neurovision.analysis.systems import BistableRNN, LineRNN, RingRNN


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def starts(n_states, n_units, seed, scale=1.0):
    return scale * torch.randn(n_states, n_units, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_planted_ring_attractor_is_a_ring():
    model = RingRNN(n=48, coupling=4.0)
    result = find_fixed_points(model, starts(80, 48, seed=0), warmup=100)
    assert (result.candidates["kind"] == "fixed").all()
    assert set(result.table["stability"]) == {"marginal"}  # one neutral direction along the ring
    assert (result.table["n_marginal"] == 1).all()
    report = characterise_attractor(result)
    assert report.kind == "ring" and report.dimension == 1
    assert report.details["cuts_that_split"] == 0
    assert report.details["radius_cv"] < 0.05
    # every point is a bump tanh(J a cos(theta - phi)): its population vector angle is free
    angles = np.angle(result.points @ np.exp(1j * model.theta.numpy()))
    assert np.ptp(np.sort(angles)) > 1.5 * np.pi


def test_planted_line_attractor_is_a_line():
    model = LineRNN(n=16, seed=1)
    result = find_fixed_points(model, starts(60, 16, seed=1, scale=3.0), warmup=50)
    report = characterise_attractor(result)
    assert report.kind == "line" and report.dimension == 1
    assert report.details["cuts_that_split"] > 0
    direction = model.direction.numpy()
    along = np.abs(result.points @ direction) / np.linalg.norm(result.points, axis=1)
    assert np.allclose(along, 1.0, atol=1e-8)  # every fixed point lies on the planted line


def test_bistable_network_has_two_discrete_attractors():
    model = BistableRNN(n=16, gain=2.0, seed=2)
    result = find_fixed_points(model, starts(40, 16, seed=2), warmup=100)
    report = characterise_attractor(result)
    assert report.kind == "discrete" and report.details["n_clusters"] == 2
    pattern = model.pattern.numpy()
    overlaps = np.sort(result.points[result.table["stability"] == "stable"] @ pattern)
    a = overlaps[1] / len(pattern)
    assert overlaps[0] == pytest.approx(-overlaps[1]) and a == pytest.approx(np.tanh(2 * a), abs=1e-9)
    near_origin = find_fixed_points(model, starts(5, 16, seed=3, scale=1e-3))  # the saddle
    assert set(near_origin.table["stability"]) == {"saddle"} and np.allclose(near_origin.points, 0)
    both = np.concatenate([result.points, near_origin.points])
    assert characterise_attractor(both).details["n_clusters"] == 3


def test_point_clouds_of_known_shape():
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, 150)
    embed = np.linalg.qr(rng.standard_normal((10, 10)))[0][:, :3]
    ring = np.c_[np.cos(theta), np.sin(theta), np.zeros_like(theta)] @ embed.T
    assert characterise_attractor(ring).kind == "ring"
    arc = np.c_[np.cos(theta / 2), np.sin(theta / 2), np.zeros_like(theta)] @ embed.T  # half circle
    assert characterise_attractor(arc).kind == "line"
    plane = np.c_[rng.uniform(-1, 1, (200, 2)), np.zeros(200)] @ embed.T
    assert characterise_attractor(plane).kind == "manifold"
    assert characterise_attractor(np.zeros((0, 10))).kind == "none"
