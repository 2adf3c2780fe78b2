"""Several areas: per-area time constants (closed forms), decoding over time, lesions, fixed points."""
import numpy as np
import pandas as pd
import pytest
import torch

import neurovision
from neurovision.backend.build import build_backend
from neurovision.backend.decoding import decode_over_time, onset
from neurovision.backend.lesion import lesion_effects, lesion_targets, lesioned
from neurovision.backend.network import AreaSpec, MultiAreaBackend, Projection
from neurovision.backend.task_fixed_points import condition_fixed_points, fixed_points_by_condition
from neurovision.backend.training import torch_threads, train
from neurovision.backend.trials import Trials, draw_trials
from neurovision.errors import UnknownIdError

EASY = {"timing": {"fixation": 40, "stimulus": 200, "decision": 60}, "cohs": [51.2], "sigma": 0.5}


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def rates_of(net, inputs):
    with torch.no_grad():
        return net(inputs, record=True).rates


def linear_chain(gain=0.5, dt=10.0, taus=(20.0, 100.0)):
    """fast (tau 20 ms) -> slow (tau 100 ms), linear, no recurrence, input 1 -> fast only."""
    net = MultiAreaBackend([AreaSpec("fast", units=3, tau=taus[0]), AreaSpec("slow", units=3, tau=taus[1])],
                           1, 2, [Projection("fast", "slow", 1.0)], dt=dt, activation="linear", noise_std=0.0)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.inputs["fast"].w.fill_(1.0)
        net.inter[0].w.copy_(gain * torch.eye(3))
    return net


def test_each_area_relaxes_with_its_own_time_constant_and_the_chain_follows_the_closed_form():
    net, u, gain, dt = linear_chain(), 0.8, 0.5, 10.0
    rates = rates_of(net, torch.full((1, 60, 1), u))
    k = np.arange(1, 61)
    a1, a2 = dt / 20.0, dt / 100.0
    a, b = 1 - a1, 1 - a2
    fast = u * (1 - a ** k)  # Euler steps of tau dr/dt = -r + u
    # slow_k = a2 g sum_j b^(k-1-j) fast_j, fast_j = u (1 - a^j): geometric sums in closed form
    slow = gain * u * ((1 - b ** k) - a2 * (b ** k - a ** k) / (b - a))
    assert np.allclose(rates["fast"][0, :, 0].numpy(), fast, atol=1e-6)
    assert np.allclose(rates["slow"][0, :, 0].numpy(), slow, atol=1e-6)
    # each area driven alone by a step: 63 % of the way after about tau (Euler: ln(e)/-ln(1 - dt/tau) steps)
    alone = MultiAreaBackend([AreaSpec("fast", units=2, tau=20.0), AreaSpec("slow", units=2, tau=100.0)], 1, 2,
                             input_areas=["fast", "slow"], dt=1.0, activation="linear", noise_std=0.0)
    with torch.no_grad():
        for p in alone.parameters():
            p.zero_()
        for proj in alone.inputs.values():
            proj.w.fill_(1.0)
    step = rates_of(alone, torch.ones(1, 400, 1))
    crossing = {name: int(np.argmax(step[name][0, :, 0].numpy() >= 1 - np.exp(-1))) + 1 for name in step}
    assert crossing["fast"] == 20 and crossing["slow"] == 100


def test_linearised_chain_has_one_eigenvalue_per_area_time_constant():
    net = linear_chain()
    inputs = torch.full((4, 20, 1), 0.8)
    rates = rates_of(net, inputs)
    window = np.ones((4, 20), dtype=bool)
    result = condition_fixed_points(net, inputs, rates, window, n_initial=4, n_eigs=6)
    assert result["converged"] and all(p["kind"] == "fixed" for p in result["points"])
    point = result["points"][0]
    assert np.allclose(point["norm_per_area"]["fast"], 0.8 * np.sqrt(3), atol=1e-4)
    assert np.allclose(point["norm_per_area"]["slow"], 0.4 * np.sqrt(3), atol=1e-4)
    taus = sorted(point["time_constants_ms"])
    assert np.allclose(taus, [20.0] * 3 + [100.0] * 3, rtol=1e-4)
    assert point["stability"] == "stable" and point["leading_mode_area_share"]["slow"] > 0.99


def test_a_search_that_cannot_converge_says_so_with_its_residual():
    net = linear_chain()
    inputs = torch.full((4, 20, 1), 0.8)
    rates = {a: r + 5.0 for a, r in rates_of(net, inputs).items()}  # far from the fixed point
    result = condition_fixed_points(net, inputs, rates, np.ones((4, 20), dtype=bool), n_initial=4,
                                    max_iter=1, refine_max_n=0)
    assert not result["converged"] and result["best_relative_step"] > result["slow_tol"]
    assert result["candidates"] == {"not converged": 4} and result["points"] == []


def test_fixed_points_per_condition_follow_each_condition_drive():
    net = linear_chain()
    table = pd.DataFrame({"level": [0.2, 0.2, 1.0, 1.0], "stimulus_start": [5] * 4, "length": [20] * 4})
    inputs = torch.tensor([0.2, 0.2, 1.0, 1.0])[:, None, None].expand(4, 20, 1).clone()
    inputs[:, :5] = 0.0  # before the window: no drive
    trials = Trials(inputs, torch.zeros(4, 20, dtype=torch.long), torch.ones(4, 20), torch.ones(4, 20, dtype=bool),
                    table, 10.0)
    rates = rates_of(net, inputs)
    out = fixed_points_by_condition(net, trials, rates, "level", "stimulus_start", n_initial=3)
    assert list(out) == ["0.2", "1.0"]
    for level, result in out.items():
        assert np.isclose(result["points"][0]["norm_per_area"]["fast"], float(level) * np.sqrt(3), atol=1e-4)


def planted(n=200, t=10, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    early, late = rng.normal(size=(n, t, 20)), rng.normal(size=(n, t, 20))
    early[:, 3:, :5] += 1.2 * (2 * y - 1)[:, None, None]
    late[:, 6:, :5] += 1.2 * (2 * y - 1)[:, None, None]
    late[:, 6:, 5:10] += 1.5 * x[:, None, None]
    return {"early": early, "late": late}, y, x


def test_decoding_finds_when_each_area_carries_a_planted_variable():
    rates, y, x = planted()
    result = decode_over_time(rates, y, dt=20.0, bin_ms=20.0, n_shuffles=199)
    onsets = {a: onset(result["p_value"].sel(area=a).values, result["time"].values) for a in ("early", "late")}
    assert onsets == {"early": 60.0, "late": 120.0}
    assert float(result["score"].sel(area="early", time=100.0)) > 0.9
    assert float(result["null_mean"].sel(area="early", time=100.0)) == pytest.approx(0.5, abs=0.05)
    continuous = decode_over_time(rates, x, dt=20.0, bin_ms=40.0, n_shuffles=99)
    assert continuous.attrs["metric"] == "R2"
    r2 = continuous["score"].sel(area="late").values
    assert np.all(r2[3:] > 0.7) and np.all(r2[:3] < 0.1)  # bins from 120 ms carry x
    logistic = decode_over_time({"early": rates["early"][:, 4:6]}, y, dt=20.0, bin_ms=20.0, model="logistic",
                                n_shuffles=19)
    assert np.all(logistic["score"].values > 0.9) and np.all(logistic["p_value"].values == 0.05)


def test_decoding_null_rejects_at_its_nominal_rate_on_label_free_activity():
    rng = np.random.default_rng(3)
    rates = {"a": rng.normal(size=(120, 40, 10))}
    result = decode_over_time(rates, rng.integers(0, 2, 120), dt=20.0, bin_ms=20.0, n_shuffles=99)
    false = int((result["p_value"].values < 0.05).sum())
    assert false <= 6  # 40 bins at alpha 0.05: P(>= 7 rejections) < 0.003 for independent bins


def trained_two_areas():
    torch.manual_seed(0)
    net = build_backend("full", 3, 3, units=32, n_areas=2, ff_density=0.5, fb_density=0.1, seed=0)
    train(net, neurovision.load_task("perceptual-decision-making", seed=0, **EASY), steps=80, batch_size=16,
          progress=False, checkpoint_every=0)
    return net


def test_lesions_cut_what_they_name_and_leave_the_network_alone():
    net = build_backend("full", 3, 3, units=16, n_areas=2, ff_density=0.5, fb_density=0.2, noise_std=0.0)
    assert lesion_targets(net) == ["A1", "A2", "A1->A2", "A2->A1", "input->A1"]
    a, b = torch.rand(2, 8, 3), torch.rand(2, 8, 3)
    for name in ("A1->A2", "A1", "input->A1"):
        cut = lesioned(net, name)
        assert torch.allclose(cut(a).logits, cut(b).logits)  # the read-out area no longer sees the input
    silenced = lesioned(net, "A2")
    assert torch.allclose(silenced(a).logits, net.readout.bias.expand(2, 8, 3))
    assert not torch.allclose(net(a).logits, net(b).logits)  # the original is untouched
    with pytest.raises(UnknownIdError, match=r"A3.*A1->A2.*input->A1"):
        lesioned(net, "A3")


def test_cutting_the_input_drops_accuracy_to_chance_and_the_feedback_matters_less():
    net = trained_two_areas()
    trials = draw_trials(neurovision.load_task("perceptual-decision-making", seed=5, **EASY), 300)
    table = lesion_effects(net, trials, ["input->A1", "A1->A2", "A2->A1"], seed=1)
    assert table.loc["none", "accuracy"] > 0.9
    for name in ("input->A1", "A1->A2"):
        assert table.loc[name, "accuracy"] < 0.65 and table.loc[name, "p_value"] < 1e-10
    assert table.loc["A2->A1", "accuracy"] > table.loc["A1->A2", "accuracy"]
