"""The neurovision command: the grammar, help, list, run and error reporting."""
import argparse
import json
import os
import resource
import subprocess
import sys
from dataclasses import fields

import pytest

from neurovision.cli import build_parser, main
from neurovision.dynamics import load_activity

VERBS = {"analyze", "demo", "experiment", "export-brainscore", "list", "notebooks", "perf", "run", "score",
         "sweep", "train"}


def _parsers(parser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def test_one_verb_per_job():
    parser = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(verbs) == VERBS
    commands = {" ".join(path) for path, _ in _parsers(parser)}
    assert {"train cordsnet", "train dcn classify", "train dcn small-data", "train dcn reconstruct",
            "train recurrent resnet", "train recurrent pathfinder", "train task", "analyze task",
            "analyze pattern-completion", "analyze contrast", "analyze scales", "analyze small-data-table",
            "analyze measure", "analyze indices", "analyze state-space", "analyze spectrum"} <= commands


def test_every_option_has_help_with_its_default():
    for path, parser in _parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            where = f"neurovision {' '.join(path)} {action.option_strings[0]}"
            assert action.help, f"{where} has no help text"
            shown = formatter._get_help_string(action)
            assert action.required or "(default" in shown, f"{where} does not show its default"


def test_one_spelling_per_meaning():
    """Optimisation, recurrent and solver steps have distinct names; no bare --steps, --k,
    --components or --progress; every --device/--seed/--quiet/--out comes from the shared helpers."""
    for path, parser in _parsers(build_parser()):
        options = {o for a in parser._actions for o in a.option_strings}
        assert not options & {"--steps", "--k", "--components", "--progress"}, (path, options)
        for action in parser._actions:
            if "--device" in action.option_strings:
                assert action.type.__name__ == "device_name" and action.default == "cpu"
            if "--out" in action.option_strings and path != ("experiment",):
                assert action.type.__name__ in ("out_file", "out_folder"), path
            if "--quiet" in action.option_strings:
                assert action.help == "no progress bars", path


def test_help_everywhere(capsys):
    for path, _ in _parsers(build_parser()):
        with pytest.raises(SystemExit) as info:
            main([*path, "--help"])
        assert info.value.code == 0
    assert "--device" in capsys.readouterr().out


def test_recurrent_options_cover_their_configurations():
    from neurovision.cli.train_cordsnet import AUGMENT, CONTROL, STAGES
    from neurovision.cli.train_recurrent import PATHFINDER, RESNET
    from neurovision.families.cordsnet import augment, pipeline
    from neurovision.families.recurrent.pathfinder_run import PathfinderRun
    from neurovision.families.recurrent.resnet_run import ResNetRun

    for spec, cls in ((PATHFINDER, PathfinderRun), (RESNET, ResNetRun)):
        assert set(spec) == {f.name for f in fields(cls)} - {"seed"}
        assert all(spec[f.name][2] == f.default for f in fields(cls) if f.name in spec)
    assert (STAGES, CONTROL, AUGMENT) == (pipeline.STAGES, pipeline.CONTROL, augment.PRESETS)


def test_list(capsys):
    assert main(["list", "models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "models:"
    described = dict(line.split(None, 1) for line in lines[1:])
    assert described["leaky-linear"] == "Reference model with a closed-form solution (tests, tutorials)"
    assert described["cordsnet-r8"].startswith("CordsNet-R8, 8 recurrent areas")
    assert all(described.values())
    assert main(["list", "tasks"]) == 0
    assert "Memory pro (Yang et al. 2019, Nat. Neurosci.): a direction held" in capsys.readouterr().out


def test_list_is_fast_and_imports_no_torch():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "neurovision", "list", "models"],
                           capture_output=True, text=True, env=env)
    assert trace.returncode == 0 and "leaky-linear" in trace.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in trace.stderr.splitlines() if "|" in line}
    assert "neurovision.registry" in imported and not imported & {"torch", "numpy", "xarray"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "neurovision", "list", "models"], capture_output=True, env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.0, f"neurovision list models took {cpu:.2f} s of CPU"


def test_experiment_lists_papers_and_steps(capsys):
    assert main(["experiment"]) == 0
    assert "tomen2021_dcn" in capsys.readouterr().out
    assert main(["experiment", "tomen2021_dcn"]) == 0
    assert "small_data" in capsys.readouterr().out
    assert main(["experiment", "--dry-run", "tomen2021_dcn", "small_data"]) == 0
    assert capsys.readouterr().out.strip() == "bash experiments/tomen2021_dcn/small_data.sh"
    assert main(["experiment", "tomen2021"]) == 1
    assert "unknown paper 'tomen2021'; choose one of:" in capsys.readouterr().err
    assert main(["perf", "--list"]) == 0
    assert "arnoldi" in capsys.readouterr().out.split()


def test_experiment_scripts_use_the_current_commands():
    """Every `neurovision ...` line of the paper scripts parses with today's grammar."""
    import re
    import shlex
    from pathlib import Path

    parser = build_parser()
    root = Path(__file__).resolve().parents[1] / "experiments"
    for script in root.glob("*/*.sh"):
        text = re.sub(r"\\\n\s*", " ", script.read_text())
        for line in text.splitlines():
            match = re.search(r"-m neurovision(?:\.cli)? ([a-z][\w-]*(?: [a-z][\w-]*)*)", line)
            if not match or "$" in match.group(1):
                continue
            words = match.group(1).split()
            try:
                parser.parse_known_args(words + ["--help"])
            except SystemExit as exit_:
                assert exit_.code == 0, f"{script.name}: {' '.join(words)}"


def test_run_writes_netcdf(tmp_path, shared_data):
    out = tmp_path / "act.nc"
    assert main(["run", "leaky-linear", "--dataset", "fashion-mnist", "--limit", "4", "--schedule",
                 "blank:10,image:30", "--time-bins", "0:30:10", "--out", str(out), "--quiet"]) == 0
    activity = load_activity(out)
    assert activity.shape == (4, 64, 3)
    assert activity.stimulus_id.values[0] == "fashion-mnist-000000"
    assert json.loads(activity.attrs["config"])["limit"] == 4


def test_run_from_image_folder_with_a_model_option(tmp_path):
    from PIL import Image
    import numpy as np

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray((np.random.default_rng(i).random((16, 16, 3)) * 255).astype("uint8")).save(folder / f"im{i}.png")
    out = tmp_path / "a.nc"
    out.write_text("an older file is replaced")
    assert main(["run", "leaky-linear", "--images", str(folder), "--schedule", "image:20", "--model-option",
                 "tau=5", "--time-bins", "0:20:10", "--out", str(out), "--quiet"]) == 0
    activity = load_activity(out)
    assert list(activity.stimulus_id.values) == ["im0", "im1", "im2"]
    assert json.loads(activity.attrs["config"])["model_option"] == [["tau", 5]]


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["run", "leaky-lin", "--images", str(tmp_path), "--out", str(tmp_path / "x.nc")]) == 1
    assert "Did you mean: leaky-linear" in capsys.readouterr().err
    assert main(["run", "leaky-linear", "--images", str(tmp_path / "none"), "--out", "x.nc"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_console_script_installed():
    out = subprocess.run([sys.executable, "-m", "neurovision", "list", "models"], capture_output=True, text=True)
    assert out.returncode == 0 and "leaky-linear" in out.stdout


def test_train_cordsnet_learning_rate_milestones_reach_each_stage():
    from neurovision.cli.train_cordsnet import build_config

    base = ["train", "cordsnet", "--out", "unused"]
    config = build_config(build_parser().parse_args(
        [*base, "--cnn-epochs", "10", "--finetune-epochs", "3", "--finetune-lr-milestones", "2"]))
    assert config.cnn.lr_milestones == (6, 9)  # 60 % and 90 % of the CNN's epochs
    assert config.finetune.lr_milestones == (2,) and config.finetune.epochs == 3
    assert config.anneal.lr_milestones == ()
    config = build_config(build_parser().parse_args([*base, "--cnn-epochs", "10", "--cnn-lr-milestones", "4,8"]))
    assert config.cnn.lr_milestones == (4, 8)
    for bad in ("2,1", "0", "2,2", "x"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([*base, "--finetune-lr-milestones", bad])
