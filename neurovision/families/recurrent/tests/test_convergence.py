"""Iterative convergence: the indices (toys, analytic curves, ResNet/CordsNet/DCN adapters),
recurrent ResNets (spectral normalisation, soft gradient coupling), hGRU/convLSTM cells and the
state-space drift analysis."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurovision.analysis.convergence import (
    SteppedIterative,
    convergence_index,
    divergence_index,
    iterative_convergence,
    perturbation_sequences,
    recurrence_index,
)
from neurovision.families.recurrent.pathfinder_report import state_space_report
from neurovision.families.recurrent.state_drift import drift, ks_drift, ks_stay_put, state_space
from neurovision.dynamics import Schedule, record
from neurovision.errors import DataError, NeurovisionError, ShapeError
from neurovision.families.recurrent.convlstm import ConvLSTMCell
from neurovision.families.recurrent.hgru import HGRUCell
from neurovision.families.recurrent.recurrent_classifier import build_recurrent_classifier, gabor_bank
from neurovision.families.recurrent.recurrent_resnet import RecurrentResNet, ResidualFunction, Stage
from neurovision.io import save_torch
from neurovision.training.loop import TrainConfig, fit
from neurovision.families.recurrent.recurrent_objective import RecurrentObjective


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small tensors: one thread avoids oversubscribing a shared machine's cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- indices -----------------------------------------------------------------------------------
K = 10  # classes


class Toy:
    """A one-stage model whose read-out is exact when ``good(sequence)`` and at chance otherwise.

    "At chance" is exact: sample i predicts (label_i + i) mod K, so 1/K of the samples are right.
    """

    def __init__(self, steps, good):
        self.stage_lengths, self.good = [steps], good

    def run(self, images, stage, sequence):
        labels = images[:, 0].long()
        index = images[:, 1].long()
        pred = labels if self.good(list(sequence), self.stage_lengths[0]) else (labels + index) % K
        return torch.nn.functional.one_hot(pred, K).float()


@pytest.fixture
def data():
    n = 200
    labels = torch.arange(n) % K
    images = torch.stack([labels.float(), torch.arange(n).float()], 1)
    return images, labels


def _indices(model, data):
    images, labels = data
    return iterative_convergence(model, images, labels, chance=1 - 1 / K)["stages"][0]


def test_instantly_converging_toy_scores_one_one_zero(data):
    # a fixed point reached after one step: any non-empty sequence reads out perfectly
    toy = Toy(6, lambda seq, T: len(seq) >= 1)
    out = _indices(toy, data)
    assert out["convergence"] == 1.0 and out["recurrence"] == 1.0 and out["divergence"] == 0.0


def test_chance_level_toys_score_zero(data):
    exact_only = Toy(6, lambda seq, T: seq == list(range(T)))
    out = _indices(exact_only, data)
    assert out["convergence"] == pytest.approx(0.0, abs=1e-12)
    assert out["divergence"] == pytest.approx(1.0, abs=1e-12)
    # every step but the last is essential: dropping any earlier step leaves chance
    needs_all_but_last = Toy(6, lambda seq, T: list(range(T - 1)) == [s for s in seq if s < T - 1])
    assert _indices(needs_all_but_last, data)["recurrence"] == pytest.approx(0.0, abs=1e-12)


def test_index_formulas_on_hand_computed_curves():
    assert convergence_index([0.5, 0.3, 0.1], chance=0.9) == pytest.approx(1 - (0.4 + 0.2) / 2 / 0.8)
    assert recurrence_index([0.7, 0.2, 0.1], chance=0.9) == pytest.approx(1 - (0.6 + 0.1) / 2 / 0.8)
    assert divergence_index([0.1, 0.3, 0.5], final=0.1, chance=0.9) == pytest.approx((0 + 0.2 + 0.4) / 3 / 0.8)
    assert np.isnan(convergence_index([0.95, 0.9], chance=0.9))
    with pytest.raises(DataError):
        convergence_index([0.1], chance=0.9)


def test_perturbation_sequences():
    seqs = perturbation_sequences(3, extra_steps=2)
    assert seqs["early"] == [[0], [0, 1], [0, 1, 2]]
    assert seqs["drop"] == [[1, 2], [0, 2], [0, 1]]
    assert seqs["extra"] == [[0, 1, 2, 2], [0, 1, 2, 2, 2]]


def _self_labelled(model, n=48, seed=0, gain=10.0):
    """Random images labelled by the intact model itself (final error 0), after scaling every
    residual branch by ``gain`` so that blocks matter (at initialisation they barely do)."""
    with torch.no_grad():
        for f in model.residual_functions():
            f.conv2.weight.mul_(gain)
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(n, *model.input_shape, generator=gen)
    model.eval()
    with torch.no_grad():
        return images, model(images).argmax(-1)


def test_weight_shared_resnet_has_recurrence_index_one_and_untied_does_not():
    torch.manual_seed(0)
    shared = RecurrentResNet((3, 8, 8), classes=K, width=4, blocks=4, stages=2, recurrent_init=True)
    images, labels = _self_labelled(shared)
    out = iterative_convergence(shared, images, labels, extra_steps=3)
    assert [s["recurrence"] for s in out["stages"]] == [1.0, 1.0]
    assert out["stages"][0]["final_error"] == 0.0
    torch.manual_seed(0)
    untied = RecurrentResNet((3, 8, 8), classes=K, width=4, blocks=4, stages=2, recurrent_init=False)
    images, labels = _self_labelled(untied)
    ri = [s["recurrence"] for s in iterative_convergence(untied, images, labels, extra_steps=3)["stages"]]
    assert min(ri) < 1.0


def test_stepped_adapter_on_a_recurrent_model_is_exactly_recurrent():
    """Dropping any Euler step of a time-invariant recurrent network equals dropping the last."""
    from neurovision.families.recurrent.recurrent_classifier import build_recurrent_classifier

    torch.manual_seed(0)
    model = build_recurrent_classifier("convlstm", channels=3, kernel=3, input_shape=(1, 8, 8), classes=4)
    wrapped = SteppedIterative(model, steps=4)
    images, _ = torch.rand(40, 1, 8, 8), None
    with torch.no_grad():
        labels = wrapped.run(images, 0, range(4)).argmax(-1)
    out = iterative_convergence(wrapped, images, labels, extra_steps=2)
    assert out["stages"][0]["recurrence"] == 1.0
    assert out["curves"][0]["early"][-1] == 0.0


def test_depth_time_adapter_reproduces_the_dcn_and_perturbs_it():
    from neurovision.analysis.convergence import DepthTimeIterative
    from neurovision.families.dcn import build_network

    torch.manual_seed(0)
    dcn = build_network("odenet", num_classes=K, rtol=1e-4, atol=1e-4).eval()
    images = torch.rand(2, 3, 32, 32)
    wrapped = DepthTimeIterative(dcn, slices=4)
    with torch.no_grad():
        full = dcn(images)
        sliced = wrapped.run(images, 1, range(4))
        early = wrapped.run(images, 1, range(2))
    assert wrapped.stage_lengths == [4, 4, 4]
    assert torch.allclose(full, sliced, atol=1e-3)
    assert not torch.allclose(full, early, atol=1e-3)


def test_stepped_adapter_reads_cordsnet_per_time_step():
    from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

    torch.manual_seed(0)
    net = CordsNet(CordsNetConfig(depth=2, image_size=16, n_classes=K)).eval()
    wrapped = SteppedIterative(net, steps=5)
    images = torch.rand(6, 3, 16, 16)
    with torch.no_grad():
        labels = wrapped.run(images, 0, range(5)).argmax(-1)
        state = net.initial_state(6)
        drive = net.encode(images)
        for _ in range(3):
            state = net.step(state, drive)
        assert torch.equal(wrapped.run(images, 0, [0, 1, 2]), net.readout(state))
    out = iterative_convergence(wrapped, images, labels, extra_steps=2)
    assert out["stages"][0]["recurrence"] == 1.0 and out["stages"][0]["final_error"] == 0.0


# -- recurrent ResNets --------------------------------------------------------------------------
MU = 0.95


def _wild_block(mu, seed=0, channels=3, size=5):
    """A residual function with large weights and non-trivial batch-norm statistics."""
    torch.manual_seed(seed)
    f = ResidualFunction(channels, (size, size), mu).double()
    with torch.no_grad():
        for conv in (f.conv1, f.conv2):
            conv.weight.mul_(4.0)
        for bn in (f.bn1, f.bn2):
            bn.weight.uniform_(0.5, 2.0)
            bn.running_var.uniform_(0.2, 3.0)
            bn.running_mean.normal_()
    if mu is not None:
        f.power_iteration(300)
    return f.eval()


def _jacobian_norm(f, x):
    jac = torch.autograd.functional.jacobian(lambda v: f(v.view_as(x)).flatten(), x.flatten())
    return torch.linalg.matrix_norm(jac, 2).item()


def test_spectral_normalised_block_is_mu_lipschitz():
    f = _wild_block(MU)
    gen = torch.Generator().manual_seed(1)
    points = [torch.randn(1, 3, 5, 5, generator=gen, dtype=torch.float64) * s for s in (0.1, 1.0, 5.0)]
    norms = [_jacobian_norm(f, x) for x in points]
    assert max(norms) <= MU * (1 + 1e-6)
    assert f.lipschitz_bound().item() > MU  # the normalisation was active
    for x, y in zip(points, points[1:]):
        ratio = (f(x) - f(y)).norm() / (x - y).norm()
        assert ratio.item() <= MU * (1 + 1e-6)


def test_unnormalised_block_exceeds_the_bound():
    f = _wild_block(None)
    x = torch.randn(1, 3, 5, 5, dtype=torch.float64)
    assert _jacobian_norm(f, x) > 1.0


def test_power_iteration_finds_the_operator_norms():
    f = _wild_block(MU)
    v = torch.zeros(1, 3, 5, 5, dtype=torch.float64)
    first = torch.autograd.functional.jacobian(lambda u: f._first(u.view_as(v)).flatten(), v.flatten())
    second = torch.autograd.functional.jacobian(lambda u: f._second(u.view_as(v)).flatten(), v.flatten())
    exact = torch.linalg.matrix_norm(first, 2) * torch.linalg.matrix_norm(second, 2)
    assert f.lipschitz_bound().item() == pytest.approx(exact.item(), rel=1e-6)


def _stage_grads(coupling, seed=0):
    torch.manual_seed(seed)
    stage = Stage(2, blocks=3, spatial=(4, 4), coupling=coupling).double()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    stage.train()
    (stage(x) ** 2).sum().backward()
    return {n: p.grad.clone() for n, p in stage.named_parameters()}


@pytest.mark.parametrize("lam", [0.5, 0.9, 1.0])
def test_soft_gradient_coupling_mixes_block_gradients(lam):
    plain, coupled = _stage_grads(0.0), _stage_grads(lam)
    for name in ("conv1.weight", "bn2.bias"):
        g = [plain[f"blocks.{t}.{name}"] for t in range(3)]
        mean = torch.stack(g).mean(0)
        for t in range(3):
            expected = (1 - lam) * g[t] + lam * mean
            assert torch.allclose(coupled[f"blocks.{t}.{name}"], expected, atol=1e-12)


def test_full_coupling_with_recurrent_init_keeps_blocks_identical_while_training():
    torch.manual_seed(0)
    model = RecurrentResNet((1, 8, 8), classes=3, width=4, blocks=3, stages=2, coupling=1.0, recurrent_init=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(torch.rand(8, 1, 8, 8)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for stage in model.stages:
        first = dict(stage.blocks[0].named_parameters())
        for block in stage.blocks[1:]:
            for name, p in block.named_parameters():
                assert torch.equal(p, first[name])
    # uncoupled blocks drift apart from the same start
    torch.manual_seed(0)
    free = RecurrentResNet((1, 8, 8), classes=3, width=4, blocks=3, stages=2, coupling=0.0, recurrent_init=True)
    opt = torch.optim.SGD(free.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(free(torch.rand(8, 1, 8, 8)), torch.randint(0, 3, (8,)))
    loss.backward()
    opt.step()
    assert not torch.equal(free.stages[0].blocks[0].conv1.weight, free.stages[0].blocks[1].conv1.weight)


def test_pcr_stage_iterates_a_contraction_to_a_fixed_point():
    """PCR: z_t = x + f(z_{t-1}) with Lip(f) <= mu < 1 converges (Banach)."""
    torch.manual_seed(0)
    stage = Stage(3, blocks=1, spatial=(5, 5), residual="x", mu=0.5).double()
    with torch.no_grad():
        for bn in (stage.blocks[0].bn1, stage.blocks[0].bn2):
            bn.running_var.uniform_(0.1, 0.5)
    stage.blocks[0].power_iteration(200)
    stage.eval()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    states = [stage(x, [0] * k) for k in (20, 21, 40)]
    assert (states[1] - states[0]).norm() <= 0.5**19 * (stage(x, [0]) - x).norm() * 1.01
    assert torch.allclose(states[0], states[2], atol=1e-5)


def test_invalid_configurations_are_rejected():
    with pytest.raises(NeurovisionError, match="coupling"):
        Stage(2, 2, (4, 4), coupling=1.5)
    with pytest.raises(NeurovisionError, match="residual"):
        Stage(2, 2, (4, 4), residual="y")
    with pytest.raises(ShapeError):
        RecurrentResNet((3, 8, 8), width=2, blocks=1)(torch.rand(1, 1, 8, 8))


# -- recurrent cells and state-space drift -----------------------------------------------------
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
            {"run": {"steps": 10, "algorithm": name, "dataset": "pathfinder"}, "accuracy_by_step": acc}))
    report = state_space_report([tmp_path / "bptt", tmp_path / "crbp"], tmp_path / "out")
    assert report["runs"]["bptt"]["accuracy_at_eval_steps"] == 0.5
    assert report["pairs"]["bptt > crbp"]["p_first_larger"] < 1e-6
    assert (tmp_path / "out" / "state_space.png").stat().st_size > 1000


def test_resnet_report_tabulates_runs_by_lambda(tmp_path):
    from neurovision.families.recurrent.resnet_report import resnet_report

    for lam, ri in ((1.0, 0.99), (0.0, 0.8), (0.5, 0.9)):
        folder = tmp_path / f"run{lam}"
        folder.mkdir()
        stage = {"convergence": 0.5, "recurrence": ri, "divergence": None, "final_error": 0.3}
        (folder / "metrics.json").write_text(json.dumps({
            "run": {"dataset": "cifar10-subset", "variant": "standard", "recurrent_init": False,
                    "coupling": lam, "width": 8},
            "test_error": 0.3, "indices": {"mean": {"convergence": 0.5, "recurrence": ri, "divergence": None},
                                           "stages": [stage]}}))
    rows = resnet_report(sorted(tmp_path.glob("run*")), tmp_path / "out")
    assert [(r["init"], r["lambda"], r["recurrence"]) for r in rows] == [
        ("nonrec", 0.0, 0.8), ("rec", 0.5, 0.9), ("rec", 1.0, 0.99)]
    assert (tmp_path / "out" / "indices.png").is_file()
