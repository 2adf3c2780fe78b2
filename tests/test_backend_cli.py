"""``neurovision train task`` end to end on tiny runs, and its error messages."""
import json

import pytest
import torch

from neurovision.backend.experiment import load_run
from neurovision.backend.training import torch_threads
from neurovision.cli import main


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


TINY = ["--units", "8", "--train-steps", "3", "--batch-size", "4", "--eval-trials", "10", "--quiet"]


def test_classic_task_run_writes_results_and_reloads(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "task", "--task", "perceptual-decision-making", "--backend", "sparse-dale:0.5",
            "--task-option", 'timing={"stimulus": 100}', "--out", str(out), *TINY]
    assert main(argv) == 0
    summary = json.loads((out / "evaluation.json").read_text())
    assert summary["n_trials"] == 10 and summary["chance"] == 0.5 and summary["train_steps"] == 3
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3
    run, env, model = load_run(out)
    assert run.backend == "sparse-dale:0.5" and run.task_options == {"timing": {"stimulus": 100}}
    saved = torch.load(out / "model.pt", weights_only=True)["model"]
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
    assert "accuracy" in capsys.readouterr().out


def test_visual_task_behind_a_frontend_caches_its_features(tmp_path):
    argv = ["train", "task", "--task", "delayed-saccade", "--frontend", "leaky-linear:rate",
            "--frontend-option", "input_shape=[1, 8, 8]", "--frontend-option", "dt=5",
            "--pool", "2", "--train-trials", "8", "--out", str(tmp_path / "v"),
            "--cache-dir", str(tmp_path / "cache"), *TINY]
    assert main(argv) == 0
    entries = sorted((tmp_path / "cache").rglob("*.pt"))
    assert len(entries) == 2  # one chunk of training trials, one of evaluation trials
    stamp = [p.stat().st_mtime_ns for p in entries]
    assert main(argv) == 0  # finished run: resumes at its end and reuses the cache
    assert [p.stat().st_mtime_ns for p in entries] == stamp
    assert main(["analyze", "task", str(tmp_path / "v")]) == 0
    summary = json.loads((tmp_path / "v" / "tuning.json").read_text())
    assert summary["condition"] == "location" and 0 <= summary["selective_fraction"] <= 1
    assert (tmp_path / "v" / "psth.png").stat().st_size > 5000
    assert [p.stat().st_mtime_ns for p in entries] == stamp  # the report reads the cache too


def test_errors_say_what_to_do(tmp_path, capsys):
    assert main(["train", "task", "--task", "numerosity", "--out", str(tmp_path / "a"), *TINY]) == 1
    assert "front-end" in capsys.readouterr().err
    assert main(["train", "task", "--task", "perceptual-decison-making", "--out", str(tmp_path / "b"), *TINY]) == 1
    assert "Did you mean: perceptual-decision-making" in capsys.readouterr().err
    assert main(["train", "task", "--task", "numerosity", "--frontend", "leaky-linear:nope",
                 "--out", str(tmp_path / "c"), *TINY]) == 1
    assert "unknown area id 'nope'" in capsys.readouterr().err
    assert main(["train", "task", "--task", "delayed-match-to-sample", "--backend", "sparse:x",
                 "--out", str(tmp_path / "d"), *TINY]) == 1
    assert "sparse:0.2" in capsys.readouterr().err
    assert main(["analyze", "task", str(tmp_path / "nothing")]) == 1
    assert "train task" in capsys.readouterr().err


def test_standardised_inputs_are_fitted_and_a_report_can_evaluate_a_changed_task(tmp_path, capsys):
    run = tmp_path / "n"
    argv = ["train", "task", "--task", "numerosity", "--frontend", "leaky-linear:rate",
            "--frontend-option", "input_shape=[1, 32, 32]", "--frontend-option", "dt=10",
            "--pool", "1", "--standardise-inputs", "--train-trials", "8", "--out", str(run),
            "--cache-dir", str(tmp_path / "cache"), *TINY]
    assert main(argv) == 0
    _, env, model = load_run(run)
    assert env.nonmatch == "any"
    assert model.backend.standardise_inputs and model.backend.input_scale.ne(1).any()
    assert model.backend.input_mean.abs().sum() > 0
    assert main(["analyze", "task", str(run), "--task-option", "nonmatch=adjacent"]) == 1
    assert "--out" in capsys.readouterr().err
    assert main(["analyze", "task", str(run), "--task-option", "nonmatch=adjacent", "--out", str(tmp_path / "adj")]) == 0
    changed = json.loads((tmp_path / "adj" / "tuning.json").read_text())
    assert changed["task_options"] == {"nonmatch": "adjacent"} and changed["n_trials"] == 10
    assert not (run / "tuning.json").exists()  # the run's own figures stay as they are
