"""``analyze task --fixed-points`` on a tiny two-area run behind a front-end."""
import json

import pytest

from neurovision.backend.training import torch_threads
from neurovision.cli import main


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


@pytest.mark.slow
def test_analyze_task_writes_fixed_points_per_condition_that_never_overclaim(tmp_path):
    run = tmp_path / "v"
    argv = ["train", "task", "--task", "delayed-saccade", "--frontend", "leaky-linear:rate",
            "--frontend-option", "input_shape=[1, 8, 8]", "--frontend-option", "dt=5", "--pool", "2",
            "--areas", "2", "--tau", "20,100", "--units", "8", "--train-steps", "3", "--batch-size", "4",
            "--train-trials", "8", "--eval-trials", "16", "--out", str(run), "--quiet"]
    assert main(argv) == 0
    assert main(["analyze", "task", str(run), "--fixed-points"]) == 0
    found = json.loads((run / "fixed_points.json").read_text())
    assert found["condition"] == "location" and found["areas"]["A2"]["tau_ms"] == 100.0
    assert len(found["conditions"]) >= 2
    for result in found["conditions"].values():
        kinds = [p["kind"] for p in result["points"]]
        assert result["converged"] == ("fixed" in kinds) == (result["best_relative_step"] <= result["tol"])
        for point in result["points"]:
            assert point["relative_step"] <= (result["tol"] if point["kind"] == "fixed" else result["slow_tol"])
            assert len(point["eigenvalues_per_ms"]) == 5 and set(point["norm_per_area"]) == {"A1", "A2"}
