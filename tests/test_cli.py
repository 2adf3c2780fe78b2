"""The neurovision command: list, run, help and error reporting."""
import subprocess
import sys

import pytest

from neurovision.cli import main
from neurovision.dynamics import load_activity


def test_help_everywhere(capsys):
    for argv in (["--help"], ["list", "--help"], ["run", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    assert "--device" in capsys.readouterr().out


def test_list(capsys):
    assert main(["list", "models"]) == 0
    assert "leaky-linear" in capsys.readouterr().out


def test_run_writes_netcdf(tmp_path, shared_data):
    out = tmp_path / "act.nc"
    assert main(["run", "leaky-linear", "--dataset", "fashion-mnist", "--limit", "4", "--schedule",
                 "blank:10,image:30", "--time-bins", "0:30:10", "--out", str(out), "--quiet"]) == 0
    activity = load_activity(out)
    assert activity.shape == (4, 64, 3)
    assert activity.stimulus_id.values[0] == "fashion-mnist-000000"


def test_run_from_image_folder(tmp_path):
    from PIL import Image
    import numpy as np

    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray((np.random.default_rng(i).random((16, 16, 3)) * 255).astype("uint8")).save(folder / f"im{i}.png")
    out = tmp_path / "a.nc"
    assert main(["run", "leaky-linear", "--images", str(folder), "--schedule", "image:20",
                 "--time-bins", "0:20:10", "--out", str(out), "--quiet"]) == 0
    assert list(load_activity(out).stimulus_id.values) == ["im0", "im1", "im2"]


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["run", "leaky-lin", "--images", str(tmp_path), "--out", str(tmp_path / "x.nc")]) == 1
    assert "Did you mean: leaky-linear" in capsys.readouterr().err
    assert main(["run", "leaky-linear", "--images", str(tmp_path / "none"), "--out", "x.nc"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", "leaky-linear", "--images", str(tmp_path), "--device", "cuda:7",
                 "--out", "x.nc"]) == 1


def test_console_script_installed():
    out = subprocess.run([sys.executable, "-m", "neurovision", "list", "models"], capture_output=True, text=True)
    assert out.returncode == 0 and "leaky-linear" in out.stdout
