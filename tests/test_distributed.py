"""Data-parallel training under torchrun (2 gloo processes on CPU) equals one process."""
import json
import os
import runpy
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
import xarray as xr

from neurovision.errors import NeurovisionError
from neurovision.training.checkpoint import load_checkpoint
from neurovision.training.distributed import World, session

WORKER = Path(__file__).with_name("training_worker.py")


def _worker():
    """The worker script's functions and constants, as a namespace."""
    return types.SimpleNamespace(**runpy.run_path(str(WORKER)))


def torchrun(args, nproc=2, timeout=240, env=None):
    """Run ``args`` under ``torchrun --standalone`` with ``nproc`` CPU processes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _losses(log: Path):
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    single, multi = tmp_path / "single", tmp_path / "multi"
    single.mkdir(), multi.mkdir()
    worker = _worker()
    result = worker.train(single, distributed=False)
    torchrun([str(WORKER), str(multi), "--distributed"])

    one, two = _losses(single / "log.jsonl"), _losses(multi / "log.jsonl")
    assert len(one) == len(two) == result.global_step == 2 * (96 // 16)
    assert [r["step"] for r in one] == [r["step"] for r in two]
    for a, b in zip(one, two):
        assert abs(a["loss"] - b["loss"]) < 1e-5, (a, b)
        assert abs(a["acc"] - b["acc"]) < 1e-6
    assert one[-1]["loss"] < one[0]["loss"]  # it learned something, so the comparison is not vacuous

    ckpt_one = load_checkpoint(single / "model.pt", worker.LeakyClassifier(), "leaky-classifier")
    ckpt_two = load_checkpoint(multi / "model.pt", worker.LeakyClassifier(), "leaky-classifier")
    assert ckpt_one["progress"] == ckpt_two["progress"]
    for key, value in ckpt_one["model"].items():
        torch.testing.assert_close(ckpt_two["model"][key], value, atol=1e-5, rtol=0)
    start = worker.LeakyClassifier().state_dict()
    assert any(not torch.equal(start[k], v) for k, v in ckpt_one["model"].items())


def test_world_split_and_shard():
    items = list(range(7))
    shares = [World(rank, 3).split(items) for rank in range(3)]
    assert sorted(sum(shares, [])) == items and shares[0] == [0, 3, 6]
    x = torch.arange(12).reshape(6, 2)
    parts = [World(rank, 2).shard((x, x[:, 0]), 6) for rank in range(2)]
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    with pytest.raises(NeurovisionError, match="not divisible by the 4 processes"):
        World(1, 4).shard(x, 6)


def test_distributed_without_torchrun_says_how_to_launch(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(NeurovisionError, match="torchrun --nproc_per_node"):
        with session(True):
            pass
    with session(False, "cpu") as (world, device):
        assert world == World() and device == torch.device("cpu")


PLANTED = """
from neurovision import benchmark_registry


def _planted(latency, n_bins, n_neuroids):
    import torch

    from neurovision.brain.synthetic import TwoTimescaleModel, planted_benchmark

    images = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    bins = [(10.0 * i, 10.0 * (i + 1)) for i in range(n_bins)]
    return planted_benchmark(TwoTimescaleModel(units=8), "out", images, latency, bins,
                             n_neuroids=n_neuroids, n_repetitions=2, n_objects=4)


benchmark_registry["tiny.fast"] = lambda: _planted(20.0, 6, 6)
benchmark_registry["tiny.slow"] = lambda: _planted(10.0, 4, 9)
"""

TWO_TIMESCALE = """
from neurovision import model_registry


def _model():
    from neurovision.brain.synthetic import TwoTimescaleModel

    return TwoTimescaleModel(units=8)


model_registry["two-timescale"] = _model
"""


def _plugin_folder(root: Path) -> Path:
    for kind, name, text in (("benchmarks", "tiny_planted", PLANTED), ("models", "two_timescale", TWO_TIMESCALE)):
        folder = root / "plugins" / kind / name
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
    return root / "plugins"


@pytest.mark.slow
def test_sweep_split_over_two_processes_equals_one(tmp_path):
    env = {"NEUROVISION_PLUGIN_PATH": str(_plugin_folder(tmp_path)), "OMP_NUM_THREADS": "1"}
    args = ["sweep", "--models", "two-timescale,leaky-linear", "--benchmarks", "tiny.fast,tiny.slow",
            "--areas", "out,rate", "--shift", "0", "--controls", "temporal", "--n-splits", "3",
            "--n-components", "5", "--quiet"]
    one = subprocess.run([sys.executable, "-m", "neurovision", *args, "--out", str(tmp_path / "one.nc")],
                         capture_output=True, text=True, timeout=240, env={**os.environ, **env})
    assert one.returncode == 0, one.stderr[-3000:]
    done = torchrun(["-m", "neurovision.cli", *args, "--out", str(tmp_path / "two.nc"), "--distributed"], env=env)
    assert "job 1" in done.stdout and "job 0" in done.stdout
    single, split = xr.open_dataset(tmp_path / "one.nc"), xr.open_dataset(tmp_path / "two.nc")
    assert split.attrs["processes"] == 2 and single.attrs["processes"] == 1
    assert list(split.model.values) == ["two-timescale", "two-timescale", "leaky-linear", "leaky-linear"]
    assert list(split.area.values) == ["out", "out", "rate", "rate"]
    xr.testing.assert_equal(split.drop_vars("job_attrs"), single.drop_vars("job_attrs"))
    assert list(split.job_attrs.values) == list(single.job_attrs.values)
    assert split.sizes["neuroid"] == 9 and split.neuroid_id.values[0, -1] == ""  # padded, ids kept
    assert (split.overall_score.values > 0.2).all()  # the planted signal is found in every job
    assert not (tmp_path / "two.nc.parts").exists()
