"""Data-parallel training under torchrun (2 gloo processes on CPU) equals one process."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from neurovision.errors import NeurovisionError
from neurovision.training.checkpoint import load_checkpoint
from neurovision.training.distributed import World, session

WORKER = Path(__file__).with_name("training_worker.py")


def _worker():
    spec = importlib.util.spec_from_file_location("training_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def torchrun(args, nproc=2, timeout=240):
    """Run ``args`` under ``torchrun --standalone`` with ``nproc`` CPU processes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
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
