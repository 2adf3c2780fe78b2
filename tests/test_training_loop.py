"""The generic training loop: learning, exact resume, NaN policies, sampled data."""
import json

import pytest
import torch
from torch import nn

from neurovision.errors import DivergenceError
from neurovision.training.checkpoint import load_checkpoint
from neurovision.training.loop import TrainConfig, fit


def _data(n=256, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=gen)
    w = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])
    return x, (x @ w > 0).long()


def _mse_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.Dropout(0.2), nn.ReLU(), nn.Linear(16, 2))


def _ce(model, batch):
    x, y = batch
    logits = model(x)
    return nn.functional.cross_entropy(logits, y), {"acc": (logits.argmax(1) == y).float().mean()}


def test_learns_a_separable_problem():
    model = _mse_model()
    result = fit(model, _ce, _data(), TrainConfig(epochs=15, batch_size=32, lr=1e-2), progress=False)
    assert result.history[-1]["acc"] > 0.9
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_resume_is_bit_identical(tmp_path):
    config = TrainConfig(epochs=3, batch_size=32, lr=1e-2, checkpoint_every=5)
    reference = _mse_model()
    fit(reference, _ce, _data(), config, progress=False)

    ckpt, log = tmp_path / "run.pt", tmp_path / "log.jsonl"
    interrupted = _mse_model()
    stop = TrainConfig(**{**config.__dict__, "max_steps": 13})
    assert fit(interrupted, _ce, _data(), stop, checkpoint=ckpt, log=log, progress=False).stopped == "max_steps"
    resumed = _mse_model()  # fresh process state: new weights, then resume
    torch.manual_seed(123)
    result = fit(resumed, _ce, _data(), config, checkpoint=ckpt, log=log, progress=False)
    assert result.global_step == 3 * (256 // 32)
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
    assert steps == list(range(1, result.global_step + 1))


def test_nan_stop_saves_batch_and_keeps_checkpoint(tmp_path):
    calls = {"n": 0}

    def nan_on_third_batch(model, batch):
        calls["n"] += 1
        loss, _ = _ce(model, batch)
        return loss * float("nan") if calls["n"] == 3 else loss

    ckpt = tmp_path / "m.pt"
    model = _mse_model()
    with pytest.raises(DivergenceError, match=r"step 2 \(global step 2\)"):
        fit(model, nan_on_third_batch, _data(), TrainConfig(epochs=1, batch_size=32, checkpoint_every=1),
            checkpoint=ckpt, progress=False)
    saved = load_checkpoint(ckpt)
    assert saved["progress"]["global_step"] == 2
    assert all(torch.isfinite(v).all() for v in saved["model"].values())
    bad_batch = torch.load(tmp_path / "m.nan-batch-step2.pt", weights_only=True)
    assert bad_batch[0].shape == (32, 5)


@pytest.mark.parametrize("policy", ["skip", "reduce-lr"])
def test_nan_skip_policies(policy):
    calls = {"n": 0}

    def sometimes_nan(model, batch):
        calls["n"] += 1
        loss, metrics = _ce(model, batch)
        return (loss * float("nan") if calls["n"] % 4 == 0 else loss), metrics

    model = _mse_model()
    result = fit(model, sometimes_nan, _data(), TrainConfig(epochs=2, batch_size=32, nan_policy=policy),
                 progress=False)
    assert result.skipped == 4
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_sampled_data_is_seeded():
    def sample(batch_size, gen):
        x = torch.randn(batch_size, 5, generator=gen)
        return x, (x[:, 0] > 0).long()

    runs = []
    for _ in range(2):
        model = _mse_model()
        fit(model, _ce, sample, TrainConfig(epochs=2, batch_size=16, steps_per_epoch=5, seed=7), progress=False)
        runs.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert torch.equal(runs[0], runs[1])
