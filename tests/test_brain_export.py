"""A model exported as a brainscore-vision plugin loads through brainscore-vision's load_model."""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neurovision.cli import main
from neurovision.errors import OutputPathError


def _models_dir() -> Path:
    import brainscore_vision

    return Path(brainscore_vision.__file__).parent / "models"


def test_exported_plugin_loads_with_brainscore_load_model(tmp_path, capsys):
    import brainscore_vision

    name = f"neurovision_export_test_{abs(hash(str(tmp_path))) % 10**8}"
    folder = _models_dir() / name
    identifier = f"{name}-leaky"
    try:
        code = main(["export-brainscore", "leaky-linear", str(folder), "--region-areas", "IT=rate",
                     "--identifier", identifier, "--latency", "20"])
    except OutputPathError:
        pytest.skip("brainscore_vision's models folder is not writable here")
    try:
        assert code == 0
        assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
            "__init__.py", "model.py", "requirements.txt", "test.py"]
        model = brainscore_vision.load_model(identifier)
        assert model.identifier == identifier and model.visual_degrees() == 8.0
        image = tmp_path / "a.png"
        Image.fromarray(np.full((16, 16, 3), 200, dtype=np.uint8)).save(image)
        model.start_recording("IT", [(20, 30), (30, 40)])
        assembly = model.look_at([str(image)])
        assert assembly.shape == (1, 64, 2)
        # latency 20 ms: neural 20-30 ms reads model 0-10 ms, which rises from zero
        assert 0 < float(assembly.values[..., 0].mean()) < float(assembly.values[..., 1].mean())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for module in [m for m in sys.modules if m.startswith(f"brainscore_vision.models.{name}")]:
            del sys.modules[module]


def test_export_rejects_bad_folder_names_and_missing_mapping(tmp_path):
    assert main(["export-brainscore", "leaky-linear", str(tmp_path / "not-a-module")]) == 1
    assert main(["export-brainscore", "leaky-linear", str(tmp_path / "plugin")]) == 1  # no mapping declared
    assert main(["export-brainscore", "leaky-linear", str(tmp_path / "plugin"), "--region-areas", "IT"]) == 1
