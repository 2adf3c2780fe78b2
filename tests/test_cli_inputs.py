"""Bad command lines: each row runs ``neurovision ...`` in-process and expects an exit code, one
line on stderr naming the problem, no traceback, and no file left in the output folder.

Row: id, a function of (scratch folder, monkeypatch) returning argv, expected exit code (2: refused
while parsing, before any work; 1: refused while running; 130: interrupted), regex of the problem.
"""
from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from neurovision.cli import main


def _images(folder: Path, n: int = 3) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        pixels = (np.random.default_rng(i).random((8, 8, 3)) * 255).astype("uint8")
        Image.fromarray(pixels).save(folder / f"im{i}.png")
    return folder


def _huge_png(folder: Path) -> Path:
    """A valid PNG whose header announces 30000 x 30000 px (a decompression bomb)."""
    folder.mkdir(parents=True, exist_ok=True)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    (folder / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                      + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return folder


def _run(t: Path, *extra, model="leaky-linear", images=None):
    images = images or _images(t / "in")
    return ["run", model, "--images", str(images), "--schedule", "blank:10,image:20", "--time-bins", "0:20:10",
            "--quiet", "--out", str(t / "out" / "act.nc"), *extra]


def _interrupt_while_writing(monkeypatch):
    """``to_netcdf`` writes half a file, then Ctrl-C arrives."""
    import xarray as xr

    def interrupted(self, path, *args, **kwargs):
        Path(path).write_bytes(b"CDF\x01 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.DataArray, "to_netcdf", interrupted)


def _offline(t: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(t / "home"))  # torchvision's default root lies under it
    monkeypatch.setenv("NEUROVISION_DOWNLOAD", "0")


def _train_task(t: Path, *extra):
    return ["train", "task", "--task", "perceptual-decision-making", "--quiet", "--out", str(t / "out"), *extra]


def _score(t: Path, *extra):
    return ["score", "leaky-linear", "cowley2023.V4", "--quiet", "--out", str(t / "out"), *extra]


CASES = [
    # devices
    ("device-gpu", lambda t, m: _run(t, "--device", "gpu"), 2, r"device 'gpu' is not available here; choose one of: cpu"),
    ("device-mps", lambda t, m: _run(t, "--device", "mps"), 2, r"device 'mps' is not available here; choose one of: cpu"),
    ("device-cuda-index", lambda t, m: _score(t, "--device", "cuda:9"), 2, r"device 'cuda:9' is not available"),
    # numbers, refused while parsing
    ("batch-size-zero", lambda t, m: _run(t, "--batch-size", "0"), 2, r"--batch-size: must be a positive integer \(>= 1\), got 0"),
    ("batch-size-negative", lambda t, m: _run(t, "--batch-size", "-4"), 2, r"--batch-size: must be a positive integer \(>= 1\), got -4"),
    ("batch-size-text", lambda t, m: _run(t, "--batch-size", "lots"), 2, r"--batch-size: expected a positive integer, got 'lots'"),
    ("limit-zero", lambda t, m: _run(t, "--limit", "0"), 2, r"--limit: must be a positive integer"),
    ("train-task-steps-negative", lambda t, m: _train_task(t, "--train-steps", "-3"), 2, r"--train-steps: must be a positive integer \(>= 1\), got -3"),
    ("train-task-old-steps-flag", lambda t, m: _train_task(t, "--steps", "3"), 2, r"unrecognized arguments: --steps"),
    ("train-task-density", lambda t, m: _train_task(t, "--ff-density", "1.5"), 2, r"--ff-density: must lie in \[0, 1\], got 1.5"),
    ("train-task-dt", lambda t, m: _train_task(t, "--dt", "nan"), 2, r"--dt: must be a finite number > 0, got nan"),
    ("train-cordsnet-lr", lambda t, m: ["train", "cordsnet", "--cnn-lr", "0", "--out", str(t / "out")], 2, r"--cnn-lr: must be a finite number > 0"),
    ("train-dcn-epochs", lambda t, m: ["train", "dcn", "classify", "--epochs", "0", "--out", str(t / "out")], 2, r"--epochs: must be a positive integer"),
    ("train-dcn-solver", lambda t, m: ["train", "dcn", "classify", "--method", "heun", "--out", str(t / "out")], 2, r"invalid choice: 'heun'"),
    ("train-recurrent-coupling", lambda t, m: ["train", "recurrent", "resnet", "--coupling", "2", "--out", str(t / "out")], 2, r"--coupling: must lie in \[0, 1\]"),
    ("analyze-eigenvalues", lambda t, m: ["analyze", "spectrum", "cordsnet-r2", "--n-eigenvalues", "0", "--out", str(t / "out")], 2, r"--n-eigenvalues: must be a positive integer"),
    ("score-shift-negative", lambda t, m: _score(t, "--shift", "-500"), 2, r"--shift: -500 ms is negative; give a latency >= 0 ms, or add --allow-negative-shift"),
    ("score-shift-text", lambda t, m: _score(t, "--shift", "later"), 2, r"shift must be 'auto' or a number of ms, got 'later'"),
    ("score-components", lambda t, m: _score(t, "--n-components", "0"), 2, r"--n-components: must be a positive integer"),
    ("score-old-components-flag", lambda t, m: _score(t, "--components", "5"), 2, r"unrecognized arguments: --components"),
    ("sweep-batch-size", lambda t, m: ["sweep", "--models", "leaky-linear", "--benchmarks", "cowley2023.V4", "--batch-size", "0", "--out", str(t / "out" / "s.nc")], 2, r"--batch-size: must be a positive integer"),
    # output locations, refused before any work
    ("out-under-file", lambda t, m: _run(t)[:-1] + [str((t / "out").write_text("x") and t / "out" / "act.nc")], 2, r"cannot write .*act.nc: .*out is a file, not a folder"),
    ("out-is-folder", lambda t, m: _run(t)[:-1] + [str((t / "out" / "act.nc").mkdir(parents=True) or t / "out" / "act.nc")], 2, r"cannot write .*act.nc: it is a folder"),
    ("out-folder-is-file", lambda t, m: _score(t)[:-1] + [str((t / "out").write_text("x") and t / "out")], 2, r"cannot write into .*out: it is a file"),
    # values known only while running
    ("limit-beyond-data", lambda t, m: _run(t, "--limit", "100000"), 1, r"--limit 100000 exceeds the 3 images in .*; give --limit <= 3"),
    ("huge-png-header", lambda t, m: _run(t, images=_huge_png(t / "bomb")), 1, r"image .*bomb.png is too large to load safely"),
    ("model-option-type", lambda t, m: _run(t, "--model-option", "image_size=sixteen", model="cordsnet-r2"), 1, r"--model-option image_size=\"sixteen\": expected an integer \(default 224\)"),
    ("model-option-unknown", lambda t, m: _run(t, "--model-option", "taus=5"), 1, r"--model-option taus: model 'leaky-linear' has no such field; valid fields: dt, input_shape, seed, tau"),
    ("model-option-syntax", lambda t, m: _run(t, "--model-option", "tau"), 2, r"--model-option: write KEY=VALUE"),
    ("dataset-offline", lambda t, m: _offline(t, m) or ["run", "leaky-linear", "--dataset", "cifar10", "--out", str(t / "out" / "a.nc")], 1, r"data set cifar10 is not in .* downloading is off; pass --download \(uses the network\)"),
    # Ctrl-C while the output file is being written
    ("ctrl-c", lambda t, m: _interrupt_while_writing(m) or _run(t), 130, r"interrupted; files being written were discarded"),
]


def _one_line(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"


@pytest.mark.parametrize("name,argv,code,problem", CASES, ids=[c[0] for c in CASES])
def test_bad_command_lines(name, argv, code, problem, tmp_path, monkeypatch, capsys):
    args = argv(tmp_path, monkeypatch)
    capsys.readouterr()  # what building the case printed
    try:
        got = main(args)
    except SystemExit as exc:
        got = exc.code
    assert got == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    _one_line(err)
    assert re.search(problem, err), err
    out = tmp_path / "out"
    written = [p.name for p in out.rglob("*") if p.is_file()] if out.is_dir() else []
    assert written == [] or name.startswith("out-"), f"partial output left behind: {written}"


def test_negative_shift_needs_the_flag():
    from neurovision.cli._common import check_args
    from neurovision.cli.main import build_parser

    parser = build_parser()
    refused = parser.parse_args(["score", "m", "b", "--shift", "-20", "--out", "x"])
    allowed = parser.parse_args(["score", "m", "b", "--shift", "-20", "--allow-negative-shift", "--out", "x"])
    assert "negative" in check_args(refused) and check_args(allowed) is None and allowed.shift == -20.0


def test_unexpected_error_names_a_traceback_file(tmp_path, monkeypatch, capsys):
    import neurovision.dynamics as dynamics

    def broken(*args, **kwargs):
        raise RuntimeError("bad luck")

    monkeypatch.setattr(dynamics, "record", broken)
    assert main(_run(tmp_path)) == 1
    err = capsys.readouterr().err
    _one_line(err)
    assert "Traceback" not in err and "unexpected RuntimeError: bad luck" in err
    log = Path(re.search(r"traceback in (\S+\.log)", err).group(1))
    assert log.is_file() and "RuntimeError: bad luck" in log.read_text() and "Traceback" in log.read_text()
    log.unlink()


def test_download_flag_reaches_the_loaders(monkeypatch):
    """``--download`` is the only way the command line lets a loader use the network."""
    from neurovision.cli._common import enable_downloads
    from neurovision.data import datasets

    seen = {}
    monkeypatch.setenv("NEUROVISION_DOWNLOAD", "0")  # restored after the test
    monkeypatch.setitem(datasets.DATASETS, "cifar10", lambda split, root, download: seen.setdefault("d", download))
    datasets.load_dataset("cifar10")
    enable_downloads(type("Args", (), {"download": True})())
    seen.clear()
    datasets.load_dataset("cifar10")
    assert seen["d"] is True


def test_rerun_after_interrupt_without_checkpoint_starts_a_clean_log(tmp_path):
    """A run stopped before its first checkpoint leaves log lines; the re-run does not append to them."""
    import torch

    from neurovision.training.loop import TrainConfig, fit

    x, y = torch.randn(32, 3), torch.randint(0, 2, (32,))
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1, "epoch": 0, "loss": 9.0}\n{"step": 2, "epoch": 0, "loss": 9.0}\n')

    def loss(model, batch):
        return torch.nn.functional.cross_entropy(model(batch[0]), batch[1])

    fit(torch.nn.Linear(3, 2), loss, (x, y), TrainConfig(batch_size=16, epochs=1), checkpoint=tmp_path / "ck.pt",
        log=log, progress=False)
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and '"loss": 9.0' not in log.read_text()
