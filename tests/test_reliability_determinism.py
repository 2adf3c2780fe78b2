"""Determinism: one seed gives bit-identical training, recording and results files on CPU, and
every results file records the seed, the versions and the configuration."""
import importlib.metadata
import json
import random

import numpy as np
import torch

from neurovision.cli import main
from neurovision.dynamics import load_activity, record
from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig
from neurovision.seeding import seed_everything
from neurovision.training.checkpoint import load_checkpoint
from neurovision.training.loop import TrainConfig, fit


def _draws():
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def test_one_seed_controls_torch_numpy_and_python():
    seed_everything(11)
    first = _draws()
    seed_everything(11)
    assert _draws() == first
    seed_everything(12)
    assert all(a != b for a, b in zip(_draws(), first))


def _train(seed, tmp_path=None):
    seed_everything(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x = torch.randn(64, 4)
    y = (x.sum(1) > 0).long()

    def loss(m, batch):
        return torch.nn.functional.cross_entropy(m(batch[0]), batch[1])

    config = TrainConfig(epochs=2, batch_size=16, seed=seed, checkpoint_every=3)
    ckpt = tmp_path / f"seed{seed}.pt" if tmp_path else None
    result = fit(model, loss, (x, y), config, checkpoint=ckpt, progress=False)
    return model.state_dict(), result.history, ckpt


def test_same_seed_gives_bit_identical_training(tmp_path):
    weights_a, history_a, ckpt = _train(5, tmp_path)
    weights_b, history_b, _ = _train(5)
    weights_c, _, _ = _train(6)
    assert history_a == history_b
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert not all(torch.equal(weights_a[k], weights_c[k]) for k in weights_a)
    meta = load_checkpoint(ckpt)["meta"]
    assert json.loads(meta["config"])["seed"] == 5
    assert json.loads(meta["versions"])["torch"] == importlib.metadata.version("torch")


def test_same_seed_gives_bit_identical_recording():
    def run(seed):
        seed_everything(seed)
        model = CordsNet(CordsNetConfig(depth=2, image_size=16, n_classes=10)).eval()
        images = torch.rand(3, 3, 16, 16)
        return record(model, images, "blank:10,image:20", areas=["area1", "area2"], time_bins="0:20:10",
                      batch_size=2, progress=False)

    a, b, c = run(3), run(3), run(4)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)


def test_results_files_record_seed_versions_and_config(tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(folder / f"im{i}.png")
    outs = []
    for name in ("a.nc", "b.nc"):
        outs.append(tmp_path / name)
        assert main(["run", "leaky-linear", "--images", str(folder), "--schedule", "image:20",
                     "--time-bins", "0:20:10", "--seed", "9", "--quiet", "--out", str(outs[-1])]) == 0
    first, second = (load_activity(p) for p in outs)
    assert first.attrs["seed"] == 9
    versions = json.loads(first.attrs["versions"])
    assert versions["neurovision"] and versions["torch"] and versions["numpy"]
    config = json.loads(first.attrs["config"])
    assert config["model"] == "leaky-linear" and config["time_bins"] == "0:20:10"
    np.testing.assert_array_equal(first.values, second.values)
    assert {k: v for k, v in first.attrs.items() if k != "config"} == \
        {k: v for k, v in second.attrs.items() if k != "config"}


def test_same_seed_gives_bit_identical_task_trials():
    from neurovision import load_task
    from neurovision.backend.trials import draw_trials

    def draw(seed):
        return draw_trials(load_task("perceptual-decision-making", seed=0), 16, seed=seed)

    a, b, c = draw(4), draw(4), draw(5)
    for name in ("inputs", "targets", "mask"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert a.info.equals(b.info)
    assert not torch.equal(a.inputs, c.inputs)


def test_same_seed_gives_bit_identical_scoring():
    from neurovision.brain.scoring import ScoreConfig, score_model
    from neurovision.brain.synthetic import TwoTimescaleModel, planted_benchmark

    images = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    bins = [(10.0 * i, 10.0 * (i + 1)) for i in range(5)]
    benchmark = planted_benchmark(TwoTimescaleModel(units=8), "out", images, 20.0, bins,
                                  n_neuroids=6, n_repetitions=2, n_objects=4)

    def score(seed):
        config = ScoreConfig(shift="auto", shifts="0:40:20", controls=("temporal", "image"), n_splits=4,
                             n_components=5, n_permutations=19, seed=seed)
        return score_model(TwoTimescaleModel(units=8), benchmark, "out", config, progress=False)

    a, b, c = score(1), score(1), score(2)
    assert a.identical(b)
    assert not a["null_score"].equals(c["null_score"])  # the seed drives the shuffled nulls

