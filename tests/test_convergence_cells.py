"""hGRU and convLSTM cells against independent references; the recurrent classifier as a model."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurovision.analysis.pathfinder_report import state_space_report
from neurovision.analysis.state_drift import drift, ks_drift, ks_stay_put, state_space
from neurovision.dynamics import Schedule, record
from neurovision.frontends.convlstm import ConvLSTMCell
from neurovision.frontends.hgru import HGRUCell
from neurovision.frontends.recurrent_classifier import build_recurrent_classifier, gabor_bank
from neurovision.io import save_torch
from neurovision.training.loop import TrainConfig, fit
from neurovision.training.recurrent_objective import RecurrentObjective


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread avoids oversubscription on shared machines."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_convlstm_with_1x1_kernel_equals_torch_lstm_cell():
    torch.manual_seed(0)
    cell = ConvLSTMCell(channels=3, kernel=1)
    ref = torch.nn.LSTMCell(3, 3)
    w = cell.gates.weight[:, :, 0, 0]  # (4C, 2C): rows i, f, o, g; columns x, h
    i, f, o, g = w.chunk(4)
    bi, bf, bo, bg = cell.gates.bias.chunk(4)
    with torch.no_grad():  # torch orders the gates i, f, g, o
        ref.weight_ih.copy_(torch.cat([i, f, g, o])[:, :3])
        ref.weight_hh.copy_(torch.cat([i, f, g, o])[:, 3:])
        ref.bias_ih.copy_(torch.cat([bi, bf, bg, bo]))
        ref.bias_hh.zero_()
    x, h, c = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 3)
    out = cell(x[:, :, None, None], torch.cat([h, c], 1)[:, :, None, None])[:, :, 0, 0]
    h_ref, c_ref = ref(x, (h, c))
    assert torch.allclose(out[:, :3], h_ref, atol=1e-6) and torch.allclose(out[:, 3:], c_ref, atol=1e-6)


def test_hgru_step_follows_the_supplement_equations():
    torch.manual_seed(0)
    cell = HGRUCell(channels=4, kernel=3, steps=6).double()
    with torch.no_grad():
        for p in (cell.alpha, cell.mu, cell.nu, cell.omega):
            p.uniform_(0.2, 1.5)
    z, h = torch.rand(2, 4, 6, 6, dtype=torch.float64), torch.rand(2, 4, 6, 6, dtype=torch.float64)

    def bn(x, layer):  # batch statistics, learned scale and shift
        mean = x.mean((0, 2, 3), keepdim=True)
        var = x.var((0, 2, 3), unbiased=False, keepdim=True)
        return layer.weight.view(1, -1, 1, 1) * (x - mean) / torch.sqrt(var + layer.eps) + layer.bias.view(1, -1, 1, 1)

    g_s = torch.sigmoid(F.conv2d(h, cell.gate_s.weight, cell.gate_s.bias))
    c_s = bn(F.conv2d(h * g_s, cell.w_s, padding=1), cell.bn_s)
    s = F.softplus(z - F.softplus((cell.alpha * h + cell.mu) * c_s))
    g_f = torch.sigmoid(F.conv2d(s, cell.gate_f.weight, cell.gate_f.bias))
    c_f = bn(F.conv2d(s, cell.w_f, padding=1), cell.bn_f)
    h_tilde = F.softplus(cell.nu * (c_f + s) + cell.omega * c_f * s)
    expected = (1 - g_f) * h + g_f * h_tilde
    assert torch.allclose(cell(z, h), expected, atol=1e-10)
    assert torch.allclose(cell.gate_f.bias, -cell.gate_s.bias)  # chrono initialisation
    assert bool((cell.gate_s.bias >= 0).all()) and bool((cell.gate_s.bias <= np.log(5) + 1e-6).all())


def test_gabor_bank_is_normalised_and_oriented():
    bank = gabor_bank(8, 7)
    assert bank.shape == (8, 1, 7, 7)
    assert torch.allclose(bank.flatten(1).norm(dim=1), torch.ones(8), atol=1e-5)
    assert torch.allclose(bank.flatten(1).sum(1), torch.zeros(8), atol=1e-5)
    # filter 0 (0 degrees) is the transpose of the 90-degree filter of the same phase
    assert torch.allclose(bank[0, 0], bank[4, 0].T, atol=1e-5)


def test_recurrent_classifier_records_like_any_stepped_model():
    torch.manual_seed(0)
    model = build_recurrent_classifier("hgru", channels=3, kernel=3, input_shape=(1, 12, 12), steps=4)
    activity = record(model, torch.rand(4, 1, 12, 12), Schedule.parse("blank:20,image:40"), "hidden",
                      time_bins="0:40:20", progress=False)
    assert activity.shape == (4, 3 * 12 * 12, 2)
    assert float(np.abs(activity.values).sum()) > 0
    logits = model(torch.rand(4, 1, 12, 12))
    assert logits.shape == (4, 2)


@pytest.mark.parametrize("algorithm", ["bptt", "c-rbp"])
def test_objectives_train_inside_the_generic_loop(algorithm, tmp_path):
    torch.manual_seed(0)
    model = build_recurrent_classifier("hgru", channels=3, kernel=3, input_shape=(1, 12, 12), steps=3)
    objective = RecurrentObjective.named(algorithm, steps=3, terms=3)
    data = (torch.rand(16, 1, 12, 12), torch.randint(0, 2, (16,)))
    before = [p.detach().clone() for p in model.parameters()]
    result = fit(model, objective, data, TrainConfig(epochs=1, batch_size=8), progress=False)
    assert result.global_step == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    if algorithm == "c-rbp":
        assert "lcp" in result.history[0]


def _planted(converging: bool, steps=30, n=200, fit_steps=10, seed=0):
    """Pooled states (T, N, C) that settle at step ``fit_steps`` or keep drifting after it."""
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(n, 4))
    t = np.arange(1, steps + 1)[:, None, None]
    settle = target * (1 - np.exp(-t / 2.0))
    if not converging:
        settle = settle + np.clip(t - fit_steps, 0, None) * 0.3 * np.array([1.0, 0.5, 0, 0])
    return settle


def test_drift_and_ks_tests_separate_settling_from_drifting_states():
    still, moving = _planted(True), _planted(False)
    d_still, d_moving = drift(still, 10, 30), drift(moving, 10, 30)
    assert np.median(d_still) < 0.01 and np.median(d_moving) > 1.0
    assert ks_drift(d_moving, d_still)["p_first_larger"] < 1e-6
    assert ks_drift(d_still, d_moving)["p_first_larger"] > 0.5
    assert ks_stay_put(state_space(still, 10).projected, 10, 30)["p_value"] > 0.5
    assert ks_stay_put(state_space(moving, 10).projected, 10, 30)["p_value"] < 1e-6


def test_state_space_report_reads_runs(tmp_path):
    for name, converging in (("crbp", True), ("bptt", False)):
        folder = tmp_path / name
        folder.mkdir()
        pooled = torch.as_tensor(_planted(converging), dtype=torch.float16)
        save_torch({"pooled": pooled, "labels": torch.zeros(200, dtype=torch.long)}, folder / "pooled_states.pt")
        acc = [0.9] * 30 if converging else [0.9] * 10 + [0.5] * 20
        (folder / "metrics.json").write_text(json.dumps(
            {"run": {"steps": 10, "algorithm": name}, "accuracy_by_step": acc}))
    report = state_space_report([tmp_path / "bptt", tmp_path / "crbp"], tmp_path / "out")
    assert report["runs"]["bptt"]["accuracy_at_eval_steps"] == 0.5
    assert report["pairs"]["bptt > crbp"]["p_first_larger"] < 1e-6
    assert (tmp_path / "out" / "state_space.png").stat().st_size > 1000
