"""Faults: a training process killed with SIGKILL resumes to identical weights; a full disk or a
permission error while writing keeps the previous file intact and leaves no temporary file."""
import errno
import json
import os
import runpy
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import torch

import neurovision.io
from neurovision.dynamics import load_activity, record, save_activity
from neurovision.dynamics.reference import LeakyLinear
from neurovision.errors import OutputPathError
from neurovision.training.checkpoint import load_checkpoint, save_checkpoint
from neurovision.training.loop import TrainConfig, fit

WORKER = Path(__file__).with_name("training_worker.py")


def _worker():
    """The worker script's functions and constants, as a namespace."""
    return types.SimpleNamespace(**runpy.run_path(str(WORKER)))


def _log_lines(log: Path) -> int:
    try:
        return len(log.read_text().splitlines())
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_gives_identical_weights(tmp_path):
    worker = _worker()
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"
    reference_dir.mkdir(), killed_dir.mkdir()
    epochs, per_epoch = 3, 96 // worker.CONFIG.batch_size
    worker.train(reference_dir, epochs=epochs)

    cmd = [sys.executable, str(WORKER), str(killed_dir), "--epochs", str(epochs)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd + ["--delay", "0.25"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    kill_after = per_epoch + 4  # four steps into the second epoch, one step past a checkpoint
    deadline = time.monotonic() + 120
    while _log_lines(killed_dir / "log.jsonl") < kill_after:
        assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the training subprocess made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    progress = load_checkpoint(killed_dir / "model.pt")["progress"]
    assert progress["epoch"] == 1 and 0 < progress["step_in_epoch"] < per_epoch  # mid-epoch
    assert not list(killed_dir.glob(".*.tmp"))

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = load_checkpoint(reference_dir / "model.pt")
    resumed = load_checkpoint(killed_dir / "model.pt")
    assert resumed["progress"] == expected["progress"]
    for key, value in expected["model"].items():
        assert torch.equal(resumed["model"][key], value), key
    for key, value in expected["optimizer"]["state"].items():
        assert all(torch.equal(resumed["optimizer"]["state"][key][k], v) for k, v in value.items())
    log = [json.loads(line) for line in (killed_dir / "log.jsonl").read_text().splitlines()]
    reference_log = [json.loads(line) for line in (reference_dir / "log.jsonl").read_text().splitlines()]
    assert log == reference_log  # the steps redone after the kill are logged once, identically


def _failing_save(kind):
    """A torch.save that writes half a file and then fails like a full disk."""
    real = torch.save

    def save(obj, path, *args, **kwargs):
        real(obj, path, *args, **kwargs)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
        raise OSError(kind, os.strerror(kind))

    return save


@pytest.mark.parametrize("kind", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
def test_write_error_keeps_previous_checkpoint(tmp_path, monkeypatch, kind):
    path = tmp_path / "model.pt"
    first = torch.nn.Linear(3, 2)
    save_checkpoint(path, first, "m", progress={"step": 1})
    before = path.read_bytes()
    monkeypatch.setattr(torch, "save", _failing_save(kind))
    with pytest.raises(OutputPathError, match=r"cannot write .*model.pt.*previous file is unchanged"):
        save_checkpoint(path, torch.nn.Linear(3, 2), "m", progress={"step": 2})
    assert path.read_bytes() == before
    assert load_checkpoint(path, torch.nn.Linear(3, 2), "m")["progress"] == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_permission_error_on_rename_keeps_previous_activity(tmp_path, monkeypatch):
    model = LeakyLinear((1, 4, 4))
    images = torch.rand(2, 1, 4, 4)
    path = save_activity(record(model, images, "image:20", time_bins="0:20:10", progress=False), tmp_path / "a.nc")
    before = path.read_bytes()

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(neurovision.io.os, "replace", refuse)
    other = record(model, images * 0.5, "image:20", time_bins="0:20:10", progress=False)
    with pytest.raises(OutputPathError, match="Permission denied.*choose a writable output path"):
        save_activity(other, path)
    assert path.read_bytes() == before
    assert load_activity(path).shape == (2, 16, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nc"]


def test_unwritable_folder_is_reported_before_any_work(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(neurovision.io.tempfile, "mkstemp", refuse)
    with pytest.raises(OutputPathError, match="Permission denied"):
        save_checkpoint(tmp_path / "c.pt", torch.nn.Linear(2, 2), "m")
    assert not list(tmp_path.iterdir())


def test_training_survives_a_failed_checkpoint_write(tmp_path, monkeypatch):
    """A disk that fills up during a run stops it with the last good checkpoint resumable."""
    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).long()
    config = TrainConfig(epochs=2, batch_size=16, checkpoint_every=2, seed=1)

    def ce(model, batch):
        return torch.nn.functional.cross_entropy(model(batch[0]), batch[1])

    torch.manual_seed(0)
    reference = torch.nn.Linear(3, 2)
    fit(reference, ce, (x, y), config, progress=False)

    calls = {"n": 0}
    real = torch.save

    def fill_disk_on_third(obj, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, path, *args, **kwargs)

    ckpt = tmp_path / "run.pt"
    torch.manual_seed(0)
    monkeypatch.setattr(torch, "save", fill_disk_on_third)
    with pytest.raises(OutputPathError, match="No space left on device"):
        fit(torch.nn.Linear(3, 2), ce, (x, y), config, checkpoint=ckpt, progress=False)
    assert load_checkpoint(ckpt)["progress"]["global_step"] == 4
    monkeypatch.setattr(torch, "save", real)
    torch.manual_seed(0)
    resumed = torch.nn.Linear(3, 2)
    fit(resumed, ce, (x, y), config, checkpoint=ckpt, progress=False)
    for a, b in zip(reference.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_interrupted_feature_cache_build_is_detected_and_rebuilt(tmp_path, monkeypatch):
    from neurovision import load_task
    from neurovision.backend.build import build_backend
    from neurovision.backend.cache import FeatureCache, feature_trials
    from neurovision.backend.multiarea import MultiAreaModel

    env = load_task("numerosity", seed=0, image_shape=(1, 24, 24))
    backend = build_backend("full", 1 + 576, env.action_space.n, units=8, dt=20.0)
    model = MultiAreaModel(LeakyLinear((1, 24, 24), dt=10.0), "rate", backend, pool=None)
    expected = feature_trials(model, env, 6, seed=0, chunk=2, progress=False).inputs

    cache = FeatureCache(tmp_path / "cache")
    real, calls = model.features, {"n": 0}

    def dies_on_third_chunk(inputs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("interrupted while building the cache")
        return real(inputs)

    monkeypatch.setattr(model, "features", dies_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        feature_trials(model, env, 6, seed=0, cache=cache, chunk=2, progress=False)
    entries = sorted((tmp_path / "cache").rglob("*"))
    files = [p for p in entries if p.is_file()]
    assert len(files) == 2 and not [p for p in files if p.suffix != ".pt"]  # no temporary leftovers
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 3])  # and one entry torn, as by a copy cut short

    monkeypatch.setattr(model, "features", real)
    cache = FeatureCache(tmp_path / "cache")
    with pytest.warns(RuntimeWarning, match="is unreadable .*recomputing it"):
        rebuilt = feature_trials(model, env, 6, seed=0, cache=cache, chunk=2, progress=False).inputs
    assert (cache.stats.hits, cache.stats.misses, cache.stats.rebuilt) == (1, 1, 1)
    assert torch.equal(rebuilt, expected)
    again = FeatureCache(tmp_path / "cache")
    assert torch.equal(feature_trials(model, env, 6, seed=0, cache=again, chunk=2, progress=False).inputs, expected)
    assert again.stats.hits == 3
