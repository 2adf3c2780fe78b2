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

from neurovision.cli import main
from neurovision.errors import NeurovisionError
from neurovision.training.checkpoint import load_checkpoint
from neurovision.training.distributed import World, session

WORKER = Path(__file__).with_name("training_worker.py")


def _worker():
    """The worker script's functions and constants, as a namespace."""
    return types.SimpleNamespace(**runpy.run_path(str(WORKER)))


def torchrun(args, nproc=2, timeout=240, env=None, check=True):
    """Run ``args`` under ``torchrun --standalone`` with ``nproc`` CPU processes (``check``: it
    must succeed)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def cli(args):
    """``neurovision ARGS`` launched under torchrun with 2 processes and ``--distributed``."""
    return torchrun(["-m", "neurovision.cli", *args, "--distributed"])


def assert_same_logs(one: Path, two: Path, tolerance=1e-5):
    """Two JSON-lines training logs have the same steps and values within ``tolerance``."""
    first, second = _losses(one), _losses(two)
    assert len(first) == len(second) > 0 and [r["step"] for r in first] == [r["step"] for r in second]
    for a, b in zip(first, second):
        assert a.keys() == b.keys()
        for key in a:
            assert abs(a[key] - b[key]) < tolerance, (key, a, b)


def assert_same_weights(one: Path, two: Path, tolerance=1e-5):
    """Two checkpoints hold the same progress and weights within ``tolerance``."""
    first, second = torch.load(one, weights_only=True), torch.load(two, weights_only=True)
    assert first.get("progress") == second.get("progress")
    assert first["model"].keys() == second["model"].keys()
    for key, value in first["model"].items():
        torch.testing.assert_close(second["model"][key], value, atol=tolerance, rtol=0)


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


@pytest.mark.slow
def test_distributed_run_resumes_from_the_rank0_checkpoint(tmp_path):
    single, multi = tmp_path / "single", tmp_path / "multi"
    single.mkdir(), multi.mkdir()
    worker = _worker()
    worker.train(single, distributed=False)  # 2 epochs at once
    torchrun([str(WORKER), str(multi), "--distributed", "--epochs", "1"])
    assert len(_losses(multi / "log.jsonl")) == 96 // 16
    torchrun([str(WORKER), str(multi), "--distributed"])  # the same run, continued to 2 epochs
    assert_same_logs(single / "log.jsonl", multi / "log.jsonl")
    assert_same_weights(single / "model.pt", multi / "model.pt")


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


# -- training commands under torchrun ------------------------------------------------------------
TASK = ["train", "task", "--task", "perceptual-decision-making", "--units", "16", "--train-steps", "6",
        "--batch-size", "8", "--lr", "0.01", "--noise", "0", "--eval-trials", "20", "--quiet"]


def test_train_task_two_processes_match_one(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*TASK, "--out", str(one)]) == 0
    done = cli([*TASK, "--out", str(two)])
    assert done.stdout.count("wrote ") == 1  # rank 0 alone reports and writes
    assert_same_logs(one / "metrics.jsonl", two / "metrics.jsonl")
    assert len(_losses(two / "metrics.jsonl")) == 6
    assert_same_weights(one / "checkpoint.pt", two / "checkpoint.pt")
    assert_same_weights(one / "model.pt", two / "model.pt")
    first = _losses(one / "metrics.jsonl")
    assert first[-1]["loss"] < first[0]["loss"]  # it trained, so the match is not vacuous
    a, b = (json.loads((run / "evaluation.json").read_text()) for run in (one, two))
    assert a["accuracy"] == b["accuracy"] and b["train_steps"] == 6


def test_odd_global_batch_fails_clearly(tmp_path):
    args = [arg if arg != "8" else "7" for arg in TASK]  # --batch-size 7
    done = torchrun(["-m", "neurovision.cli", *args, "--out", str(tmp_path / "odd"), "--distributed"], check=False)
    assert done.returncode != 0
    assert "global batch size 7 is not divisible by the 2 processes" in done.stderr
    assert not (tmp_path / "odd" / "checkpoint.pt").exists()


CORDSNET = ["train", "cordsnet", "--dataset", "cifar10-subset", "--depth", "2", "--image-size", "16",
            "--train-limit", "32", "--eval-limit", "8", "--protocol-steps", "image:6,return:4,ce:3,penalty:2",
            "--cnn-epochs", "1", "--cnn-batch-size", "16", "--fit-train-steps", "2", "--fit-batch-size", "8",
            "--linear-train-steps", "3", "--linear-batch-size", "8", "--linear-lr", "1e-3", "--quiet"]


@pytest.mark.slow
def test_train_cordsnet_stages_two_processes_match_one(tmp_path, shared_data):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*CORDSNET, "--stages", "cnn", "--out", str(one)]) == 0
    two.mkdir()
    for name in ("cnn.pt", "metrics.json"):
        (two / name).write_bytes((one / name).read_bytes())
    assert main([*CORDSNET, "--stages", "fit,linear", "--out", str(one)]) == 0
    cli([*CORDSNET, "--stages", "fit,linear", "--out", str(two)])
    for stage in ("fit", "linear"):  # the linear stage augments (flip, affine) every global batch
        assert_same_logs(one / f"{stage}.log.jsonl", two / f"{stage}.log.jsonl")
        assert_same_weights(one / f"{stage}.pt", two / f"{stage}.pt")
    a, b = (json.loads((run / "metrics.json").read_text()) for run in (one, two))
    assert a["linear"]["acc"] == pytest.approx(b["linear"]["acc"]) and set(b) == {"cnn", "fit", "linear"}
    assert _losses(one / "linear.log.jsonl")[0]["loss"] != _losses(one / "linear.log.jsonl")[-1]["loss"]


def test_train_cordsnet_unknown_stage_lists_the_valid_ones(tmp_path, capsys):
    assert main(["train", "cordsnet", "--stages", "fold,bogus", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "unknown stage id 'bogus'" in err
    assert "Valid stage ids: anneal, cnn, direct, finetune, fit, fold, linear." in err
    assert not any(tmp_path.iterdir())  # refused before any data was loaded


# 4 steps: later steps of this tiny run amplify a 1e-7 weight perturbation beyond 1e-5 even in
# one process, so float rounding of the gradient sums could not be told from a real difference
DCN = ["train", "dcn", "small-data", "--variants", "resnet-blocks", "--train-per-class", "4", "--repeats", "1", "--epochs", "1",
       "--batch-size", "10", "--test-per-class", "3", "--no-augment"]


@pytest.mark.slow
def test_dcn_small_data_two_processes_match_one(tmp_path, shared_data):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*DCN, "--out", str(one)]) == 0
    cli([*DCN, "--out", str(two)])
    stem = "resnet-blocks-k4-seed0"
    # SGD at lr 0.1: float32 gradients summed in another order drift by ~1e-5 in 4 steps
    assert_same_logs(one / f"{stem}.log.jsonl", two / f"{stem}.log.jsonl", tolerance=5e-5)
    assert_same_weights(one / f"{stem}.pt", two / f"{stem}.pt", tolerance=5e-5)
    a, b = (json.loads((run / f"{stem}.json").read_text()) for run in (one, two))
    assert a["test"] == b["test"] and b["steps"] == 4
    assert (two / "summary.json").is_file() and not (two / f"{stem}.ckpt").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_train_cordsnet_on_cuda_without_a_gpu_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["train", "cordsnet", "--device", "cuda", "--stages", "cnn", "--out", str(tmp_path)])
    assert refused.value.code == 2
    assert "device 'cuda' is not available here; choose one of: cpu" in capsys.readouterr().err
