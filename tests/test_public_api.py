"""The public API: a handful of top-level names, every subpackage stating its public names, and
notebooks that import only public modules."""
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import neurovision

REPO = Path(__file__).resolve().parents[1]
TOP = {"load_model", "load_task", "load_benchmark", "record", "score", "train", "Schedule", "load_activity"}
IMPORT = re.compile(r"^\s*from\s+(neurovision[\w.]*)\s+import|^\s*import\s+(neurovision[\w.]*)", re.M)


def subpackages() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(neurovision.__path__, "neurovision.") if m.ispkg]


def test_import_is_light_and_exports_the_user_verbs():
    code = "import sys, neurovision; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert TOP <= set(neurovision.__all__)
    for name in neurovision.__all__:
        assert getattr(neurovision, name) is not None


@pytest.mark.parametrize("package", subpackages())
def test_every_subpackage_states_its_public_names(package):
    module = importlib.import_module(package)
    assert module.__doc__, f"{package} has no docstring"
    assert hasattr(module, "__all__") and module.__all__, f"{package}/__init__.py states no public names"
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_notebooks_import_only_public_modules():
    public = {"neurovision", "neurovision.explorer", *subpackages()}
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        used = {a or b for a, b in IMPORT.findall(source)}
        assert used <= public, f"{path.name} imports internal modules {sorted(used - public)}"
