"""Back-end areas: connectivity kinds, Dale's law, Euler dynamics against closed forms, graphs."""
import math

import numpy as np
import pytest
import torch

from neurovision.backend.build import build_backend, parse_kind
from neurovision.backend.connectivity import LowRank, Sparse, dale_signs, make_connectivity
from neurovision.backend.network import AreaSpec, MultiAreaBackend, Projection
from neurovision.dynamics import Schedule, record
from neurovision.errors import ShapeError, UnknownIdError


def test_low_rank_matrix_is_m_n_transpose_over_n_and_has_that_rank():
    conn = LowRank(40, 40, rank=3, generator=torch.Generator().manual_seed(0))
    w = conn.weight()
    assert torch.allclose(w, conn.m @ conn.n.T / 40)
    assert torch.linalg.matrix_rank(w.detach()) == 3
    r = torch.randn(5, 40)
    assert torch.allclose(conn(r), r @ w.T, atol=1e-5)


def test_low_rank_eigenvalues_start_near_the_gain():
    small = LowRank(300, 300, rank=2, gain=0.9, generator=torch.Generator().manual_seed(0))
    full = torch.linalg.eigvals(small.weight().detach()).abs().sort(descending=True).values
    reduced = torch.linalg.eigvals((small.n.T @ small.m / 300).detach()).abs().sort(descending=True).values
    assert torch.allclose(full[:2], reduced, atol=1e-4) and full[2] < 1e-4  # nonzero spectrum = eig(N^T M / n)
    big = LowRank(20000, 20000, rank=2, gain=0.9, generator=torch.Generator().manual_seed(1))
    eig = torch.linalg.eigvals((big.n.T @ big.m / 20000).detach()).abs()
    assert torch.allclose(eig, torch.full((2,), 0.9), atol=0.05)


def test_sparse_mask_density_survives_training():
    conn = Sparse(200, 200, density=0.1, generator=torch.Generator().manual_seed(1))
    assert abs(conn.mask.mean().item() - 0.1) < 0.01
    opt = torch.optim.SGD(conn.parameters(), lr=1.0)
    conn(torch.randn(8, 200)).pow(2).sum().backward()
    opt.step()
    assert torch.all(conn.weight()[conn.mask == 0] == 0)


def test_dale_signs_hold_after_a_step_and_rows_start_balanced():
    signs = dale_signs(100, 0.8)
    conn = Sparse(100, 100, density=0.5, signs=signs, generator=torch.Generator().manual_seed(2))
    opt = torch.optim.SGD(conn.parameters(), lr=10.0)
    conn(torch.rand(8, 100)).sum().backward()
    opt.step()
    w = conn.weight().detach()
    assert torch.all(w[:, :80] >= 0) and torch.all(w[:, 80:] <= 0)
    fresh = Sparse(100, 100, density=1.0, signs=signs, generator=torch.Generator().manual_seed(3)).weight()
    assert abs(fresh.sum(1).mean().item()) < 0.1 * fresh.abs().sum(1).mean().item()


def test_invalid_connectivity_requests_are_explained():
    with pytest.raises(ShapeError, match="low-rank"):
        make_connectivity("low-rank", 10, 10, signs=dale_signs(10, 0.8))
    with pytest.raises(ShapeError, match="non-negative"):
        MultiAreaBackend([AreaSpec("a", dale=True, kind="sparse")], 2, 2, activation="tanh")
    with pytest.raises(UnknownIdError, match="sparse"):
        parse_kind("sprase")
    assert parse_kind("low-rank:3") == {"kind": "low-rank", "rank": 3}


def _silent(backend):
    with torch.no_grad():
        for p in backend.parameters():
            p.zero_()
    return backend


def test_euler_relaxation_matches_the_closed_form():
    # W = 0, bias b: r_k = relu(b) (1 - (1 - dt/tau)^k) exactly for Euler steps
    net = _silent(MultiAreaBackend([AreaSpec("a", units=4, tau=50.0)], 1, 2, dt=10.0, noise_std=0.0))
    with torch.no_grad():
        net.bias["a"].copy_(torch.tensor([0.5, 1.0, -1.0, 2.0]))
    out = net(torch.zeros(1, 30, 1), record=True)
    k = torch.arange(1, 31, dtype=torch.float32)[:, None]
    expected = torch.relu(net.bias["a"].detach()) * (1 - (1 - 0.2) ** k)
    assert torch.allclose(out.rates["a"][0], expected, atol=1e-6)


def test_noise_has_the_stationary_variance_of_the_discrete_ou_process():
    sigma, alpha = 0.3, 0.2
    net = _silent(MultiAreaBackend([AreaSpec("a", units=400, tau=100.0)], 1, 2, dt=20.0, noise_std=sigma))
    torch.manual_seed(0)
    rates = net(torch.zeros(4, 150, 1), record=True).rates["a"][:, 50:]
    expected = sigma / math.sqrt(1 - alpha / 2)  # var = 2 a s^2 / (1 - (1 - a)^2)
    assert abs(rates.std().item() - expected) / expected < 0.03


def test_feedback_projection_carries_activity_back():
    areas = [AreaSpec("A1", units=20), AreaSpec("A2", units=20)]
    ff = MultiAreaBackend(areas, 3, 2, [Projection("A1", "A2", 0.5)], noise_std=0.0)
    both = MultiAreaBackend(areas, 3, 2, [Projection("A1", "A2", 0.5), Projection("A2", "A1", 0.5)], noise_std=0.0)
    for net in (ff, both):
        state = net.initial_state(1)
        state["A2"] = torch.ones(1, 20)
        changed = net.step(state, None)["A1"]
        baseline = net.step(net.initial_state(1), None)["A1"]
        assert torch.equal(changed, baseline) == (net is ff)


def test_projections_and_readout_of_dale_areas_use_excitatory_units_only():
    net = build_backend("sparse-dale:0.5", 3, 2, units=50, n_areas=2, ff_density=0.5, fb_density=0.5)
    signs = net.signs("A1")
    for projection in net.inter:
        w = projection.weight()
        assert torch.all(w[:, signs < 0] == 0) and torch.all(w >= 0)
    assert len(net.readout_units) == 40 and torch.all(net.signs("A2")[net.readout_units] > 0)


def test_backend_is_a_stepped_model_the_recorder_can_run():
    net = build_backend("low-rank:1", 3, 2, units=16, dt=10.0, noise_std=0.0)
    activity = record(net, torch.rand(5, 3), Schedule.parse("stim:100"), ["rnn"], "0:100:50", progress=False)
    assert activity.shape == (5, 16, 2)
    direct = net(torch.rand(5, 10, 3)[:, :1].expand(5, 10, 3), record=True)
    assert direct.rates["rnn"].shape == (5, 10, 16)


def test_wrong_input_width_is_reported_with_shapes():
    net = build_backend("full", 3, 2, units=8)
    with pytest.raises(ShapeError, match="3 inputs"):
        net(torch.zeros(2, 5, 4))


def test_seeded_evaluation_repeats_the_noise_and_leaves_the_global_generator_alone():
    from neurovision.backend.evaluation import run_network

    net = build_backend("full", 3, 2, units=20, noise_std=0.5)
    inputs = torch.rand(6, 10, 3)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = run_network(net, inputs, batch_size=4, seed=7).logits
    assert torch.equal(torch.rand(1), expected_next)
    b = run_network(net, inputs, batch_size=4, seed=7).logits
    c = run_network(net, inputs, batch_size=4, seed=8).logits
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_input_standardisation_z_scores_with_the_pool_statistics_and_survives_a_checkpoint(tmp_path):
    from neurovision.training.checkpoint import load_checkpoint, save_checkpoint

    gen = torch.Generator().manual_seed(0)
    pool = torch.randn(40, 6, 3, generator=gen) * torch.tensor([2.0, 0.5, 0.0]) + torch.tensor([1.0, -3.0, 7.0])
    net = build_backend("full", 3, 2, units=8, noise_std=0.0, standardise_inputs=True)
    raw = build_backend("full", 3, 2, units=8, noise_std=0.0)
    assert not hasattr(raw, "input_mean") and "input_mean" not in raw.state_dict()
    net.fit_input_standardisation(pool)
    flat = pool.reshape(-1, 3).double()
    assert torch.allclose(net.input_mean, flat.mean(0).float(), atol=1e-5)
    assert torch.allclose(net.input_scale[:2], flat.std(0, unbiased=False)[:2].float(), atol=1e-5)
    assert net.input_scale[2] == 1.0  # a constant input is centred, not divided by zero
    # the input layer sees z-scores: same currents as the raw-input network on standardised inputs
    raw.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("input_")})
    z = (pool - net.input_mean) / net.input_scale
    assert torch.allclose(net.encode(pool)["rnn"], raw.encode(z)["rnn"], atol=1e-5)
    save_checkpoint(tmp_path / "m.pt", net, "m")
    again = build_backend("full", 3, 2, units=8, noise_std=0.0, standardise_inputs=True)
    load_checkpoint(tmp_path / "m.pt", again, model_id="m")
    assert torch.equal(again.input_mean, net.input_mean) and torch.equal(again.input_scale, net.input_scale)
    with pytest.raises(ShapeError, match="standardise_inputs"):
        raw.fit_input_standardisation(pool)
