"""Bad-input matrix: every public entry point rejects bad input with a specific error type whose
message names the problem and the fix, and writes nothing (no target file, no temporary file).

Each row: id, a function of a scratch folder that makes the bad call, the expected exception
type, and a regex for the problem the message must name. Every message must also say what to do
(:data:`FIX`). The CLI rows run ``neurovision ...`` in-process and expect exit code 1 (2 for
argument errors), the message on stderr and an empty output folder.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import neurovision
from neurovision.cli import main
from neurovision.data.datasets import load_dataset
from neurovision.data.images import load_image_folder, prepare_images, to_tensor
from neurovision.dynamics import (Epoch, Schedule, load_activity, make_activity, parse_time_bins,
                                  record, save_activity)
from neurovision.dynamics.reference import LeakyLinear
from neurovision.errors import (CorruptFileError, DataError, DivergenceError, NeurovisionError,
                                OutputPathError, ScheduleError, ShapeError, UnknownIdError)
from neurovision.io import atomic_path, load_torch, save_torch
from neurovision.seeding import seed_everything
from neurovision.training.checkpoint import load_checkpoint, save_checkpoint
from neurovision.training.loop import TrainConfig, fit

#: words that say what to do (or state the exact expected form); every message must contain one
FIX = re.compile(
    r"\b(use|choose|pass|write|set|delete|record it again|re-create|lower|widen|resize|clean|"
    r"drop|fit them|launch|did you mean|valid [\w\- ]+ ids|load it with|lengthen|add|give|free|check|build)\b"
    r"|must (be|share) (one of|\(|')",
    re.IGNORECASE,
)

RECORDED = object()  # marker: the case's scratch folder must stay empty


def _model():
    return LeakyLinear(input_shape=(1, 4, 4), tau=10.0, dt=1.0)


def _images(n=3, channels=1, size=4):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(0))


def _activity():
    return record(_model(), _images(), "blank:10,image:20", time_bins="0:20:10", progress=False)


def _truncated(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _checkpoint(tmp: Path, model=None, model_id="leaky-linear") -> Path:
    model = model or torch.nn.Linear(3, 2)
    return save_checkpoint(tmp / "src.pt", model, model_id)


def _nan_images():
    x = _images()
    x[1, 0, 2, 2] = float("nan")
    return x


def _inf_images():
    x = _images()
    x[0, 0, 0, 0] = float("inf")
    return x


def _xy(n=64):
    return torch.randn(n, 3), torch.randint(0, 2, (n,))


def _ce(model, batch):
    x, y = batch
    return torch.nn.functional.cross_entropy(model(x), y)


def _fit(data, config=None, model=None, **kw):
    return fit(model or torch.nn.Linear(3, 2), _ce, data, config or TrainConfig(batch_size=16),
               progress=False, **kw)


PYTHON_CASES = [
    # registries and ids
    ("unknown-model-id", lambda t: neurovision.load_model("leaky-linaer"), UnknownIdError, r"unknown model id 'leaky-linaer'.*Did you mean: leaky-linear"),
    ("unknown-task-id", lambda t: neurovision.load_task("no-such-task"), UnknownIdError, r"unknown task id 'no-such-task'"),
    ("unknown-benchmark-id", lambda t: neurovision.load_benchmark("no.such"), UnknownIdError, r"unknown benchmark id 'no.such'"),
    ("unknown-dataset", lambda t: load_dataset("fashion-mnits"), UnknownIdError, r"unknown dataset id.*fashion-mnist"),
    ("unknown-area", lambda t: record(_model(), _images(), "image:20", areas="V4", time_bins="0:20:10", progress=False), UnknownIdError, r"unknown area id 'V4'.*rate"),
    ("missing-plugin-folder", lambda t: neurovision.add_plugin_folder(t / "nowhere"), NeurovisionError, r"plugin folder .*nowhere does not exist"),
    # schedules and time bins
    ("schedule-empty", lambda t: Schedule.parse(""), ScheduleError, r"empty schedule"),
    ("schedule-no-duration", lambda t: Schedule.parse("blank,image:100"), ScheduleError, r"cannot parse schedule entry 'blank'"),
    ("schedule-negative", lambda t: Schedule.parse("blank:-100,image:100"), ScheduleError, r"duration -100"),
    ("schedule-zero", lambda t: Schedule.parse("image:0"), ScheduleError, r"duration 0"),
    ("schedule-units", lambda t: Schedule.parse("image:1s"), ScheduleError, r"cannot parse schedule entry 'image:1s'"),
    ("schedule-nan", lambda t: Epoch("image", float("nan"), "image"), ScheduleError, r"finite number of ms"),
    ("schedule-not-epochs", lambda t: Schedule([("image", 100)]), ScheduleError, r"must be Epoch objects"),
    ("dt-not-dividing", lambda t: Schedule.parse("image:25").n_steps(2.0), ScheduleError, r"25 ms, not a multiple of dt = 2 ms"),
    ("dt-negative", lambda t: Schedule.parse("image:20").n_steps(-1.0), ScheduleError, r"dt must be a positive number of ms"),
    ("bins-garbage", lambda t: parse_time_bins("70 to 170"), ScheduleError, r"cannot parse time bin '70 to 170'"),
    ("bins-reversed", lambda t: parse_time_bins("170:70:10"), ScheduleError, r"need start < stop"),
    ("bins-zero-width", lambda t: parse_time_bins("0:100:0"), ScheduleError, r"width > 0"),
    ("bins-uneven", lambda t: parse_time_bins("0:100:30"), ScheduleError, r"not a multiple of the width 30"),
    ("bins-empty-pair", lambda t: parse_time_bins("50-50"), ScheduleError, r"\(50.0, 50.0\).*start < end"),
    ("bins-none", lambda t: parse_time_bins(","), ScheduleError, r"no time bins"),
    ("bins-not-pairs", lambda t: parse_time_bins([1, 2, 3]), ScheduleError, r"\(start, end\) pairs"),
    ("bins-outside-schedule", lambda t: record(_model(), _images(), "blank:10,image:20", time_bins="0:50:10", progress=False), ScheduleError, r"\(20, 30\] ms lies outside the schedule"),
    ("bins-without-steps", lambda t: record(LeakyLinear((1, 4, 4), dt=10.0), _images(), "image:40", time_bins="0-5,5-10", progress=False), ScheduleError, r"contain no integration step at dt = 10 ms"),
    ("schedule-two-stimuli-one-tensor", lambda t: record(_model(), _images(), "a:10,b:10", time_bins="0:10:10", progress=False), ScheduleError, r"shows 2 stimuli"),
    ("schedule-missing-stimulus", lambda t: record(_model(), {"a": _images()}, "a:10,b:10", time_bins="0:10:10", progress=False), ScheduleError, r"shows \['b'\]"),
    # images
    ("images-5d", lambda t: prepare_images(torch.rand(2, 1, 1, 4, 4), (1, 4, 4)), ShapeError, r"images must have shape .*\(2, 1, 1, 4, 4\)"),
    ("images-1d", lambda t: to_tensor(np.zeros(16)), ShapeError, r"images must have shape"),
    ("images-two-channels", lambda t: prepare_images(torch.rand(2, 2, 4, 4), (3, 4, 4)), ShapeError, r"2 channels; the model expects 3"),
    ("images-size-no-resize", lambda t: prepare_images(torch.rand(2, 1, 8, 8), (1, 4, 4), resize=False), ShapeError, r"\(8, 8\) px; the model expects \(4, 4\) px"),
    ("images-nan", lambda t: prepare_images(_nan_images(), (1, 4, 4)), DataError, r"images \[1\] contain NaN/Inf"),
    ("images-inf", lambda t: prepare_images(_inf_images(), (1, 4, 4)), DataError, r"images \[0\] contain NaN/Inf"),
    ("images-empty", lambda t: prepare_images(torch.zeros(0, 1, 4, 4), (1, 4, 4)), DataError, r"image set is empty"),
    ("record-nan-images", lambda t: record(_model(), _nan_images(), "image:20", time_bins="0:20:10", progress=False), DataError, r"NaN/Inf pixels"),
    ("record-empty", lambda t: record(_model(), torch.zeros(0, 1, 4, 4), "image:20", time_bins="0:20:10", progress=False), DataError, r"no stimuli given"),
    ("record-id-count", lambda t: record(_model(), _images(), "image:20", time_bins="0:20:10", stimulus_ids=["a"], progress=False), DataError, r"1 stimulus ids for 3 stimuli"),
    ("record-unequal-stimuli", lambda t: record(_model(), {"a": _images(3), "b": _images(2)}, "a:10,b:10", time_bins="0:10:10", progress=False), DataError, r"'b' has 2 presentations, expected 3"),
    ("image-folder-missing", lambda t: load_image_folder(t / "none"), FileNotFoundError, r"image folder .* does not exist"),
    ("image-folder-empty", lambda t: load_image_folder(t), DataError, r"no image files"),
    # activity files
    ("activity-wrong-dims", lambda t: save_activity(xr.DataArray(np.zeros((2, 3)), dims=("a", "b")), t / "x.nc"), DataError, r"dims are \('a', 'b'\)"),
    ("activity-not-dataarray", lambda t: save_activity(np.zeros((2, 3, 4)), t / "x.nc"), DataError, r"expected an xarray.DataArray"),
    ("activity-missing-file", lambda t: load_activity(t / "none.nc"), FileNotFoundError, r"no such activity file"),
    ("activity-truncated", lambda t: load_activity(_truncated(t / "cut.nc", save_activity(_activity(), t / "full.nc"))), CorruptFileError, r"cannot read .*cut.nc as NetCDF"),
    ("activity-not-netcdf", lambda t: (t / "x.nc").write_text("hello") and load_activity(t / "x.nc"), CorruptFileError, r"cannot read .*x.nc as NetCDF"),
    ("activity-checkpoint-as-netcdf", lambda t: load_activity(_checkpoint(t)), CorruptFileError, r"as NetCDF"),
    # checkpoints
    ("checkpoint-missing", lambda t: load_checkpoint(t / "none.pt"), FileNotFoundError, r"no such checkpoint file"),
    ("checkpoint-truncated", lambda t: load_checkpoint(_truncated(t / "cut.pt", _checkpoint(t))), CorruptFileError, r"cut.pt.*truncated"),
    ("checkpoint-netcdf", lambda t: load_checkpoint(save_activity(_activity(), t / "a.nc")), CorruptFileError, r"not a weights-only torch checkpoint"),
    ("checkpoint-foreign-format", lambda t: load_checkpoint(save_torch({"w": torch.zeros(2)}, t / "w.pt")), CorruptFileError, r"not a neurovision checkpoint"),
    ("checkpoint-other-model-id", lambda t: load_checkpoint(_checkpoint(t, model_id="cordsnet-r2"), torch.nn.Linear(3, 2), "leaky-linear"), ShapeError, r"weights of model 'cordsnet-r2', not 'leaky-linear'.*load_model\('cordsnet-r2'\)"),
    ("checkpoint-other-architecture", lambda t: load_checkpoint(_checkpoint(t), torch.nn.Linear(4, 2)), ShapeError, r"weight: checkpoint \(2, 3\) vs model \(2, 4\)"),
    ("checkpoint-missing-keys", lambda t: load_checkpoint(_checkpoint(t), torch.nn.Sequential(torch.nn.Linear(3, 2))), ShapeError, r"missing key 0.weight.*unexpected key weight"),
    ("checkpoint-pickled-object", lambda t: (torch.save({"f": Path("x")}, t / "obj.pt"), load_torch(t / "obj.pt")), CorruptFileError, r"not a weights-only torch checkpoint"),
    # training
    ("train-bad-optimizer", lambda t: TrainConfig(optimizer="adamm"), NeurovisionError, r"optimizer 'adamm' unknown.*adam"),
    ("train-bad-nan-policy", lambda t: TrainConfig(nan_policy="ignore"), NeurovisionError, r"nan_policy 'ignore' unknown"),
    ("train-zero-epochs", lambda t: TrainConfig(epochs=0), NeurovisionError, r"epochs and batch_size must be >= 1"),
    ("train-length-mismatch", lambda t: _fit((torch.randn(64, 3), torch.zeros(60, dtype=torch.long))), NeurovisionError, r"differ in length: \[64, 60\]"),
    ("train-too-few-samples", lambda t: _fit(_xy(8)), NeurovisionError, r"8 training samples, fewer than one batch of 16"),
    ("train-sampled-without-steps", lambda t: _fit(lambda n, g: _xy(n)), NeurovisionError, r"steps_per_epoch"),
    ("train-frozen-model", lambda t: _fit(_xy(), model=torch.nn.Linear(3, 2).requires_grad_(False)), NeurovisionError, r"no trainable parameters"),
    ("train-nan-loss", lambda t: fit(torch.nn.Linear(3, 2), lambda m, b: _ce(m, b) * float("nan"), _xy(), TrainConfig(batch_size=16), progress=False), DivergenceError, r"non-finite loss or gradient at epoch 0, step 0"),
    ("seed-negative", lambda t: seed_everything(-1), ValueError, r"non-negative integer"),
    ("seed-float", lambda t: seed_everything(1.5), ValueError, r"non-negative integer"),
    # output locations
    ("output-under-a-file", lambda t: (t / "file").write_text("x") and save_activity(_activity(), t / "file" / "a.nc"), OutputPathError, r"cannot write .*file/a.nc"),
    ("output-checkpoint-under-a-file", lambda t: (t / "file").write_text("x") and save_checkpoint(t / "file" / "c.pt", torch.nn.Linear(2, 2), "m"), OutputPathError, r"cannot write .*c.pt"),
]


def _cordsnet(**kw):
    from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

    return CordsNet(CordsNetConfig(**{"depth": 2, "image_size": 16, "n_classes": 3, **kw}))


def _recording(values, ids=("a", "b", "c", "d")):
    from neurovision.brain.recordings import make_recording

    return make_recording(values, list(ids), ["n0", "n1"], [(0.0, 10.0), (10.0, 20.0)], "IT")


def _nan_target():
    from neurovision.brain.scoring import neural_target

    values = np.ones((4, 2, 2))
    values[:, 1, 0] = np.nan
    return neural_target(_recording(values), "raise")


def _task_loss_mismatch():
    from neurovision.backend.build import build_backend
    from neurovision.backend.training import task_loss

    backend = build_backend("full", 3, 2, units=4)
    return task_loss(backend, (torch.zeros(2, 5, 3), torch.zeros(2, 4, dtype=torch.long), torch.ones(2, 4)))


PLUGIN_CASES = [
    ("cordsnet-depth", lambda t: _cordsnet(depth=3), ValueError, r"depth must be one of \(2, 4, 6, 8\), got 3"),
    ("cordsnet-grayscale-images", lambda t: _cordsnet().encode(torch.rand(2, 1, 16, 16)), ShapeError, r"expects images of shape \(batch, 3, 16, 16\).*got \(2, 1, 16, 16\).*prepare_images"),
    ("cordsnet-wrong-size", lambda t: _cordsnet().encode(torch.rand(2, 3, 20, 20)), ShapeError, r"got \(2, 3, 20, 20\)"),
    ("cordsnet-record-area", lambda t: record(_cordsnet(), torch.rand(2, 3, 16, 16), "image:10", areas="area5", time_bins="0:10:10", progress=False), UnknownIdError, r"unknown area id 'area5'.*area1, area2"),
    ("cordsnet-foreign-checkpoint", lambda t: __import__("neurovision.families.cordsnet.network", fromlist=["x"]).load_cordsnet(_checkpoint(t)), CorruptFileError, r"holds no CordsNet configuration"),
    ("cordsnet-released-without-path", lambda t: neurovision.load_model("cordsnet-r8-imagenet"), FileNotFoundError, r"released checkpoint .*pass load_model"),
    ("backend-kind", lambda t: __import__("neurovision.backend.build", fromlist=["x"]).build_backend("recurrent", 3, 2), UnknownIdError, r"unknown back-end kind id 'recurrent'"),
    ("backend-loss-shapes", lambda t: _task_loss_mismatch(), ShapeError, r"must share \(batch, time\)"),
    ("neural-nan-responses", lambda t: _nan_target(), DataError, r"1 of 2 neuroids have NaN responses.*nan_policy='drop-neuroids'"),
    ("neural-values-2d", lambda t: _recording(np.zeros((4, 2))), DataError, r"must be \(presentation, neuroid, time_bin\)"),
    ("splits-too-few-stimuli", lambda t: __import__("neurovision.brain.splits", fromlist=["x"]).brainscore_splits(3), DataError, r"3 presentations are too few"),
    ("benchmark-without-images", lambda t: __import__("neurovision.brain.scoring", fromlist=["x"]).resolve_benchmark(object()), DataError, r"is not a model-scoring benchmark.*choose one that has images"),
    ("splits-singleton-stratum", lambda t: __import__("neurovision.brain.splits", fromlist=["x"]).brainscore_splits(20, ["a"] * 19 + ["b"]), DataError, r"\['b'\] have 1.*Drop those stimuli"),
]
PYTHON_CASES += PLUGIN_CASES

# files the case itself created as input (everything else in the folder counts as output)
INPUTS = {"src.pt", "full.nc", "cut.nc", "cut.pt", "x.nc", "a.nc", "w.pt", "obj.pt", "file"}


@pytest.mark.parametrize("name,call,exc,problem", PYTHON_CASES, ids=[c[0] for c in PYTHON_CASES])
def test_python_entry_point_rejects(name, call, exc, problem, tmp_path):
    with pytest.raises(exc) as info:
        call(tmp_path)
    message = str(info.value)
    assert re.search(problem, message, re.DOTALL), message
    assert FIX.search(message), f"the message does not say what to do: {message}"
    left = [p.name for p in tmp_path.rglob("*") if p.name not in INPUTS]
    assert not left, f"partial output left behind: {left}"


def _write_images(folder: Path, n=3, size=8, mode="RGB"):
    from PIL import Image

    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        shape = (size, size, 3) if mode == "RGB" else (size, size)
        Image.fromarray((rng.random(shape) * 255).astype("uint8"), mode).save(folder / f"im{i}.png")
    return folder


def _run_args(tmp: Path, *extra, model="leaky-linear"):
    images = _write_images(tmp / "in")
    return ["run", model, "--images", str(images), "--schedule", "blank:10,image:20",
            "--time-bins", "0:20:10", "--quiet", "--out", str(tmp / "out" / "act.nc"), *extra]


CLI_CASES = [
    ("cli-unknown-model", lambda t: _run_args(t, model="leaky-lin"), 1, r"unknown model id 'leaky-lin'.*Did you mean: leaky-linear"),
    ("cli-bad-schedule", lambda t: _run_args(t, "--schedule", "blank100"), 1, r"cannot parse schedule entry 'blank100'"),
    ("cli-bad-time-bins", lambda t: _run_args(t, "--time-bins", "0..20"), 1, r"cannot parse time bin '0..20'"),
    ("cli-bins-outside", lambda t: _run_args(t, "--time-bins", "0:200:10"), 1, r"lies outside the schedule"),
    ("cli-dt-mismatch", lambda t: _run_args(t, "--schedule", "blank:10,image:20.5"), 1, r"not a multiple of dt"),
    ("cli-unknown-area", lambda t: _run_args(t, "--areas", "IT"), 1, r"unknown area id 'IT'"),
    ("cli-zero-limit", lambda t: _run_args(t, "--limit", "0"), 2, r"argument --limit: must be a positive integer"),
    ("cli-missing-images", lambda t: ["run", "leaky-linear", "--images", str(t / "none"), "--out", str(t / "out" / "a.nc")], 1, r"does not exist"),
    ("cli-empty-image-folder", lambda t: ["run", "leaky-linear", "--images", str((t / "empty").mkdir() or t / "empty"), "--out", str(t / "out" / "a.nc")], 1, r"no image files"),
    ("cli-unknown-dataset", lambda t: ["run", "leaky-linear", "--dataset", "imagenet-21k", "--out", str(t / "out" / "a.nc")], 1, r"unknown dataset id 'imagenet-21k'"),
    ("cli-no-cuda", lambda t: _run_args(t, "--device", "cuda:3"), 2, r"device 'cuda:3' is not available here; choose one of: cpu"),
    ("cli-output-under-file", lambda t: _run_args(t)[:-1] + [str((t / "out").write_text("x") and t / "out" / "act.nc")], 2, r"cannot write .*act.nc"),
    ("cli-train-task-unknown-task", lambda t: ["train", "task", "--task", "perceptual-decisions", "--train-steps", "1", "--out", str(t / "out")], 1, r"unknown task id 'perceptual-decisions'.*perceptual-decision-making"),
    ("cli-train-task-backend-kind", lambda t: ["train", "task", "--task", "perceptual-decision-making", "--backend", "lstm", "--train-steps", "1", "--out", str(t / "out")], 1, r"unknown back-end kind id 'lstm'"),
    ("cli-train-task-visual-without-frontend", lambda t: ["train", "task", "--task", "numerosity", "--train-steps", "1", "--out", str(t / "out")], 1, r"shows images; give a front-end"),
    ("cli-train-task-frontend-area", lambda t: ["train", "task", "--task", "numerosity", "--frontend", "cordsnet-r2:V9", "--train-steps", "1", "--out", str(t / "out")], 1, r"unknown area id 'V9'"),
    ("cli-train-cordsnet-dataset", lambda t: ["train", "cordsnet", "--dataset", "imagenet-1k", "--out", str(t / "out")], 1, r"unknown dataset id 'imagenet-1k'"),
    ("cli-sweep-unknown-benchmark", lambda t: ["sweep", "--models", "leaky-linear", "--benchmarks", "majajhong", "--out", str(t / "out" / "s.nc")], 1, r"unknown benchmark id 'majajhong'"),
    ("cli-sweep-area-missing", lambda t: ["sweep", "--models", "leaky-linear", "--benchmarks", "cowley2023.V4", "--areas", "IT", "--out", str(t / "out" / "s.nc")], 1, r"has none of the areas \['IT'\]"),
    ("cli-sweep-empty-list", lambda t: ["sweep", "--models", ",", "--benchmarks", "cowley2023.V4", "--out", str(t / "out" / "s.nc")], 1, r"no models given"),
    ("cli-score-unknown-benchmark", lambda t: ["score", "leaky-linear", "cowley2023.v4", "--out", str(t / "out")], 1, r"unknown benchmark id 'cowley2023.v4'.*Did you mean: cowley2023.V4"),
    ("cli-score-bins-off-grid", lambda t: ["score", "leaky-linear", "cowley2023.V4", "--time-bins", "0:5000:100", "--quiet", "--out", str(t / "out")], 1, r"time bin \(0, 100\] ms is not tiled by the recorded bins"),
    ("cli-score-unknown-area", lambda t: ["score", "leaky-linear", "cowley2023.V4", "--area", "V9", "--quiet", "--out", str(t / "out")], 1, r"unknown area id 'V9'"),
    ("cli-score-shift-text", lambda t: ["score", "leaky-linear", "cowley2023.V4", "--shift", "soon", "--quiet", "--out", str(t / "out")], 2, r"shift must be 'auto' or a number of ms, got 'soon'"),
    ("cli-score-unknown-control", lambda t: ["score", "leaky-linear", "cowley2023.V4", "--controls", "temporal,bogus", "--quiet", "--out", str(t / "out")], 1, r"unknown controls \['bogus'\]"),
    ("cli-bad-split", lambda t: ["run", "leaky-linear", "--dataset", "fashion-mnist", "--split", "val", "--out", str(t / "out" / "a.nc")], 2, r"invalid choice: 'val'"),
    ("cli-batch-size-text", lambda t: _run_args(t, "--batch-size", "many"), 2, r"--batch-size: expected a positive integer, got 'many'"),
    ("cli-unknown-command", lambda t: ["trian"], 2, r"invalid choice: 'trian'"),
    ("cli-list-unknown-kind", lambda t: ["list", "widgets"], 2, r"invalid choice: 'widgets'"),
]


@pytest.mark.parametrize("name,argv,code,problem", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_rejects(name, argv, code, problem, tmp_path, capsys):
    args = argv(tmp_path)
    if code == 2:
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
    else:
        assert main(args) == 1
    err = capsys.readouterr().err
    assert re.search(problem, err, re.DOTALL), err
    assert "Traceback" not in err
    if code == 1:
        assert FIX.search(err), f"the message does not say what to do: {err}"
    out = tmp_path / "out"
    written = [p.name for p in out.rglob("*") if not p.is_dir()] if out.is_dir() else []
    assert not written, f"partial output left behind: {written}"

