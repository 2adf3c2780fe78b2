"""Convergence, Recurrence and Divergence indices: analytic values, toys and real adapters."""
import numpy as np
import pytest
import torch

from neurovision.analysis.convergence import (
    SteppedIterative,
    convergence_index,
    divergence_index,
    iterative_convergence,
    perturbation_sequences,
    recurrence_index,
)
from neurovision.errors import DataError
from neurovision.frontends.recurrent_resnet import RecurrentResNet


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread avoids oversubscription on shared machines."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
    from neurovision.frontends.recurrent_classifier import build_recurrent_classifier

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
    from neurovision.frontends.dcn import build_network

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
    from neurovision.frontends.cordsnet import CordsNet, CordsNetConfig

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
