"""CordsNet training protocol, initialisation steps and the resumable pipeline."""
import json
from unittest.mock import patch

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurovision.errors import DivergenceError
from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig
from neurovision.families.cordsnet.cnn import CordsNetCNN
from neurovision.families.cordsnet.protocol import Protocol, evaluate, protocol_loss, reduced_loss
from neurovision.families.cordsnet import stages as cordsnet_stages
from neurovision.families.cordsnet.stages import (anneal, anneal_slopes, fit_steady_state, fold, make_loss,
                                                  neumann_steady_state)
from neurovision.training.loop import TrainConfig

SMALL = Protocol(image_steps=12, return_steps=8, ce_steps=5, penalty_steps=3)


def small_cnn(depth=4, size=32, seed=0):
    torch.manual_seed(seed)
    cnn = CordsNetCNN(CordsNetConfig(depth=depth, image_size=size, n_classes=5))
    with torch.no_grad():  # batch-norm statistics and affine terms far from identity
        for m in cnn.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.3)
    return cnn.eval()


@pytest.mark.parametrize("depth,size", [(2, 28), (4, 32)])
def test_batch_norm_folding_preserves_the_cnn(depth, size):
    cnn = small_cnn(depth, size)
    folded, model = fold(cnn)
    images = torch.rand(4, 3, size, size)
    with torch.no_grad():
        want = cnn(images)
        activities = cnn.activities(images)
        _, pre = folded.areas(images)
    torch.testing.assert_close(folded(images), want, rtol=1e-4, atol=1e-4)
    for x, p in zip(activities, pre):
        torch.testing.assert_close(F.relu(p), x, rtol=1e-4, atol=1e-4)
    assert model.config.activation == "prelu" and float(model.prelu_slope) == 1.0
    torch.testing.assert_close(model.inp[-1].weight, folded.inp_w[-1])


def test_linear_model_reaches_the_cnn_when_recurrence_reproduces_it():
    """If the CNN's recurrent conv is the identity, W = 0 and b = a give its exact steady state."""
    cnn = small_cnn(2, 28)
    with torch.no_grad():
        for conv in cnn.rec:
            kernel = torch.zeros_like(conv.weight)
            kernel[range(kernel.shape[0]), range(kernel.shape[0]), 1, 1] = 1.0
            conv.parametrizations.weight.original1.copy_(kernel)
            conv.parametrizations.weight.original0.fill_(1.0)
        for bn in cnn.rec_bn:
            bn.reset_parameters()
            bn.reset_running_stats()
    folded, model = fold(cnn)
    with torch.no_grad():
        for j in range(2):
            model.rec[j].parametrizations.weight.original0.zero_()
            model.bias[j].copy_(folded.in_bias[j])
    images = torch.rand(6, 3, 28, 28)
    _, lin = evaluate_linear_logits(model, images, steps=80)
    torch.testing.assert_close(lin, folded(images), rtol=1e-3, atol=1e-3)


def evaluate_linear_logits(model, images, steps):
    with torch.no_grad():
        drive, state = model.encode(images), model.zero_state(images.shape[0])
        for _ in range(steps):
            state = model.step(state, drive)
        return state, model.readout(state)


def test_neumann_iterations_sum_the_series():
    model = CordsNet(depth=2, image_size=8, rec_gain=0.3)
    c = torch.randn(1, *model.area_shape("area1"))
    r, power = neumann_steady_state(model, 0, c, iterations=3)
    conv = model.recurrent_conv("area1")
    terms = [c]
    for _ in range(3):
        terms.append(conv(terms[-1]))
    torch.testing.assert_close(r, sum(terms), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(power, terms[-1], rtol=1e-5, atol=1e-5)


def test_steady_state_fit_trains_only_recurrence_and_bias_and_lowers_the_error():
    cnn = small_cnn(2, 28, seed=1)
    folded, model = fold(cnn)
    fixed = {n: p.detach().clone() for n, p in model.named_parameters() if not n.startswith(("rec.", "bias."))}
    images = torch.rand(32, 3, 28, 28)
    labels = torch.zeros(32, dtype=torch.long)
    from neurovision.families.cordsnet.stages import steady_state_loss

    before = steady_state_loss(model, images, labels, folded)[1]["mse"]
    fit_steady_state(model, folded, (images, labels), TrainConfig(epochs=12, batch_size=16, optimizer="adam", lr=3e-3),
                     progress=False)
    after = steady_state_loss(model, images, labels, folded)[1]["mse"]
    assert after < 0.5 * before
    for name, p in model.named_parameters():
        if name in fixed:
            assert torch.equal(p, fixed[name]), name


def reference_protocol(model, images, labels, protocol):
    """The loss written out step by step as in the paper (from the spontaneous state)."""
    with torch.no_grad():
        spont = {a: x.clone() for a, x in model.spontaneous_state().items()}
    state = {a: x.expand(images.shape[0], *x.shape[1:]) for a, x in spont.items()}
    drive = model.encode(images)
    weights = torch.logspace(-3, 0, protocol.ce_steps)
    ces = []
    for k in range(protocol.image_steps):
        state = model.step(state, drive)
        if k >= protocol.image_steps - protocol.ce_steps:
            ces.append(F.cross_entropy(model.readout(state), labels))
    penalty = 0.0
    for k in range(protocol.return_steps):
        state = model.step(state, None)
        if k >= protocol.return_steps - protocol.penalty_steps:
            penalty = penalty + np.mean([float(((state[a] - spont[a]) ** 2).mean()) for a in model.areas])
    ce = float((torch.stack(ces) * weights).mean())
    return ce + 1e-3 * penalty / protocol.penalty_steps


def test_protocol_loss_equals_the_paper_definition():
    torch.manual_seed(0)
    model = CordsNet(depth=2, image_size=16, n_classes=4, rec_gain=0.5)
    with torch.no_grad():
        model.bias[0].normal_(0, 0.3)
    images, labels = torch.rand(3, 3, 16, 16), torch.tensor([0, 3, 1])
    loss, metrics = protocol_loss(model, images, labels, SMALL)
    assert float(loss.detach()) == pytest.approx(reference_protocol(model, images, labels, SMALL), rel=1e-5)
    assert metrics["penalty"] > 0
    loss.backward()
    assert model.rec[0].parametrizations.weight.original1.grad is not None
    assert torch.logspace(-3, 0, 30)[0] == pytest.approx(1e-3)
    assert SMALL.schedule(2.0).duration == 2.0 * (100 + 12 + 8)


def test_reduced_loss_starts_from_rest_and_ignores_the_return():
    model = CordsNet(depth=2, image_size=16, n_classes=4, activation="prelu", prelu_slope=1.0)
    images, labels = torch.rand(2, 3, 16, 16), torch.tensor([1, 2])
    loss, _ = reduced_loss(model, images, labels, SMALL)
    with torch.no_grad():
        drive, state, ces = model.encode(images), model.zero_state(2), []
        for k in range(SMALL.image_steps):
            state = model.step(state, drive)
            if k >= SMALL.image_steps - SMALL.ce_steps:
                ces.append(F.cross_entropy(model.readout(state), labels))
    assert float(loss) == pytest.approx(float((torch.stack(ces) * torch.logspace(-3, 0, 5)).mean()), rel=1e-5)


def test_image_independent_input_gives_zero_return_penalty():
    model = CordsNet(depth=2, image_size=16, n_classes=4, rec_gain=0.5)
    with torch.no_grad():
        model.stem.parametrizations.weight.original0.zero_()  # images have no effect
        model.bias[1].normal_(0, 0.2)
    loss, metrics = protocol_loss(model, torch.rand(2, 3, 16, 16), torch.tensor([0, 1]), SMALL)
    assert metrics["penalty"] < 1e-10
    result = evaluate(model, torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3]), SMALL, batch_size=2)
    assert result["return_rel"] < 1e-4


def test_divergence_policy_stop_names_the_area_skip_drops_the_batch():
    model = CordsNet(depth=2, image_size=16, n_classes=4)
    with torch.no_grad():
        model.inp[1].parametrizations.weight.original1[0, 0, 0, 0] = float("inf")
    model._spontaneous = (model._weights_key(), model.zero_state(1))
    batch = (torch.rand(2, 3, 16, 16), torch.tensor([0, 1]))
    with pytest.raises(DivergenceError, match="area2"):
        make_loss(protocol_loss, "stop", protocol=SMALL)(model, batch)
    loss, metrics = make_loss(protocol_loss, "skip", protocol=SMALL)(model, batch)
    assert torch.isnan(loss) and metrics == {}


def test_anneal_slopes_follow_the_authors_schedule():
    assert anneal_slopes(20) == pytest.approx([0.95 - 0.05 * k for k in range(20)])
    assert anneal_slopes(1) == [0.0]


def test_anneal_levels_draw_different_images():
    """Each level shuffles anew: short levels must not revisit the same first batches."""
    model = CordsNet(depth=2, image_size=16, n_classes=4)
    images, labels = torch.rand(64, 3, 16, 16), torch.arange(64) % 4
    seen = []

    def record(model, batch):
        seen[-1].append(batch[0][:, 0, 0, 0].clone())
        return model.readout(model.zero_state(batch[0].shape[0])).sum() * 0, {}

    config = TrainConfig(optimizer="adamw", lr=1e-4, epochs=1, batch_size=8, steps_per_epoch=2)
    with patch("neurovision.families.cordsnet.stages.make_loss", lambda *a, **k: record):
        real_fit = cordsnet_stages.fit

        def fit(*args, **kwargs):
            seen.append([])
            return real_fit(*args, **kwargs)

        with patch("neurovision.families.cordsnet.stages.fit", fit):
            anneal(model, (images, labels), config, levels=3, protocol=SMALL)
    firsts = [torch.cat(level) for level in seen]
    assert len(firsts) == 3 and all(f.shape == (16,) for f in firsts)
    assert not torch.equal(firsts[0], firsts[1]) and not torch.equal(firsts[1], firsts[2])
    assert model.config.activation == "relu"


def test_frozen_features_keep_the_feed_forward_kernel_directions_only():
    torch.manual_seed(0)
    model = CordsNet(depth=4, image_size=16, n_classes=4)
    images, labels = torch.rand(16, 3, 16, 16), torch.arange(16) % 4
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(optimizer="adamw", lr=1e-2, epochs=1, batch_size=8, steps_per_epoch=2)
    cordsnet_stages.finetune(model, (images, labels), config, SMALL, freeze_features=True, progress=False)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    directions = {f"{m}.parametrizations.weight.original1" for m in ("stem", "stem_skip", "inp.0", "inp.3", "skip.0")}
    assert not directions & changed
    assert {"stem.parametrizations.weight.original0", "inp.0.parametrizations.weight.original0",
            "rec.0.parametrizations.weight.original1", "bias.1", "fc.bias"} <= changed
    names = {n for n, p in model.named_parameters()}
    kept = {id(p) for p in cordsnet_stages.trained_parameters(model, True)}
    assert {n for n, p in model.named_parameters() if id(p) not in kept} == {
        n for n in names if n.startswith(cordsnet_stages.FEED_FORWARD) and n.endswith("original1")}
    assert len(cordsnet_stages.trained_parameters(model)) == len(names)


@pytest.mark.usefixtures("shared_data")
def test_pipeline_resumes_and_exports(tmp_path):
    from neurovision.families.cordsnet.network import load_cordsnet
    from neurovision.families.cordsnet.pipeline import Pipeline, PipelineConfig, export

    tiny = dict(epochs=1, batch_size=16, steps_per_epoch=2)
    config = PipelineConfig(dataset="cifar10-subset", depth=2, image_size=16, train_limit=64, eval_limit=16,
                            eval_batch_size=16, protocol=SMALL, anneal_levels=2,
                            cnn=TrainConfig(optimizer="sgd", lr=0.01, **tiny),
                            fit=TrainConfig(optimizer="adamw", lr=1e-3, **tiny),
                            linear=TrainConfig(optimizer="adamw", lr=1e-4, **tiny),
                            anneal=TrainConfig(optimizer="adamw", lr=1e-4, epochs=1, batch_size=16, steps_per_epoch=1))
    metrics = Pipeline(config, tmp_path, progress=False).run(("cnn", "fold", "fit"))
    assert metrics["fold"]["acc_folded_cnn"] == pytest.approx(metrics["cnn"]["acc"])
    stamp = (tmp_path / "fit.pt").stat().st_mtime_ns
    metrics = Pipeline(config, tmp_path, progress=False).run(("cnn", "fold", "fit", "linear", "anneal"))
    assert (tmp_path / "fit.pt").stat().st_mtime_ns == stamp  # loaded, not re-run
    assert set(metrics) == {"cnn", "fold", "fit", "linear", "anneal"}
    assert sorted(p.name for p in tmp_path.glob("anneal-*.progress.pt")) == ["anneal-00.progress.pt", "anneal-01.progress.pt"]
    logs = [[json.loads(line)["step"] for line in (tmp_path / f"anneal-0{k}.log.jsonl").read_text().splitlines()]
            for k in range(2)]
    assert logs == [[1], [1]]  # one log per level: a level's fresh start leaves the others' alone
    again = Pipeline(config, tmp_path, progress=False).evaluate_stages(("cnn", "fit", "anneal"))
    assert again["anneal"]["acc"] == metrics["anneal"]["acc"] and again["fit"]["acc"] == metrics["fit"]["acc"]
    Pipeline(config, tmp_path, progress=False).evaluate_stages(("linear",))  # adds, keeps the others
    assert set(json.loads((tmp_path / "evaluation-16.json").read_text())) == {"cnn", "fit", "anneal", "linear"}
    export(tmp_path / "anneal.pt", tmp_path / "final.pt", "cordsnet-r2-test")
    model = load_cordsnet(tmp_path / "final.pt", model_id="cordsnet-r2-test")
    assert model.config.activation == "relu" and model.input_shape == (3, 16, 16)
    assert json.loads((tmp_path / "metrics.json").read_text())["anneal"]["acc"] == metrics["anneal"]["acc"]


def test_image_folder_data_feeds_the_pipeline(tmp_path):
    from PIL import Image

    from neurovision.families.cordsnet.pipeline import Pipeline, PipelineConfig

    gen = np.random.default_rng(0)
    for split in ("train", "val"):
        for label, name in enumerate(("cats", "dogs")):
            (tmp_path / "data" / split / name).mkdir(parents=True)
            for k in range(3):
                pixels = (gen.random((40, 50, 3)) * 120 + 100 * label).astype(np.uint8)
                Image.fromarray(pixels).save(tmp_path / "data" / split / name / f"{k}.png")
    tiny = dict(epochs=1, batch_size=4, steps_per_epoch=2)
    config = PipelineConfig(dataset=f"folder:{tmp_path / 'data'}", depth=2, image_size=16, eval_limit=None,
                            eval_batch_size=8, protocol=SMALL, cnn=TrainConfig(optimizer="sgd", lr=0.01, **tiny))
    pipeline = Pipeline(config, tmp_path / "out", progress=False)
    assert pipeline.model_config.n_classes == 2 and pipeline.model_config.mean == (0.485, 0.456, 0.406)
    images, labels = pipeline.data("test")
    assert images.shape == (6, 3, 16, 16) and sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1]
    metrics = pipeline.run(("cnn", "fold"))
    assert 0.0 <= metrics["fold"]["acc"] <= 1.0


def test_checkpointed_rollout_gives_the_same_loss_and_gradients():
    from dataclasses import replace

    torch.manual_seed(0)
    model = CordsNet(depth=2, image_size=16, n_classes=4, rec_gain=0.5)
    images, labels = torch.rand(2, 3, 16, 16), torch.tensor([1, 3])
    grads = []
    for segment in (0, 5):
        model.zero_grad()
        loss, _ = protocol_loss(model, images, labels, replace(SMALL, checkpoint_segment=segment))
        loss.backward()
        grads.append((float(loss.detach()), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-6)
    assert len(grads[0][1]) == len(grads[1][1])
    for a, b in zip(grads[0][1], grads[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)
