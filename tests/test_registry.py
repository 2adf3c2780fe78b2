"""Registries: registration forms, plugin folders, entry points, unknown ids, the wheel."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neurovision
from neurovision.errors import UnknownIdError
from neurovision.registry import Registry

REPO = Path(__file__).resolve().parents[1]


def test_both_registration_forms_and_kwargs():
    reg = Registry("models")
    reg._discovered = True
    reg["a"] = lambda scale=1: ("a", scale)

    @reg.register("b")
    def build_b():
        return "b"

    assert reg.load("a", scale=3) == ("a", 3) and reg.load("b") == "b"
    with pytest.raises(TypeError):
        reg["c"] = "not callable"


def test_unknown_id_lists_closest():
    with pytest.raises(UnknownIdError) as info:
        neurovision.load_model("leaky-lineer")
    assert "Did you mean: leaky-linear" in str(info.value)
    assert "Valid model ids:" in str(info.value)


def _write_plugin(root: Path, kind: str, folder: str, line: str) -> None:
    plugin = root / kind / folder
    plugin.mkdir(parents=True)
    (plugin / "model.py").write_text("def build():\n    return 'built from a folder'\n")
    (plugin / "__init__.py").write_text(textwrap.dedent(line))


def test_plugin_from_a_temporary_folder(tmp_path):
    _write_plugin(tmp_path, "models", "my_model", """
        from neurovision import model_registry
        def _factory():
            from .model import build
            return build()
        model_registry["tmp-model"] = _factory
    """)
    _write_plugin(tmp_path, "tasks", "my_task", """
        from neurovision import task_registry
        task_registry["tmp-task"] = lambda: "a task"
    """)
    neurovision.add_plugin_folder(tmp_path)
    assert neurovision.load_model("tmp-model") == "built from a folder"
    assert neurovision.load_task("tmp-task") == "a task"
    assert "models" not in sys.modules or not hasattr(sys.modules["models"], "my_model")


def test_a_plugin_imported_before_discovery_keeps_its_description(tmp_path):
    """pytest imports plugin folders that hold a test.py under another name while collecting;
    discovery then registers the id again, and the plugin's docstring still describes it."""
    import importlib.util

    _write_plugin(tmp_path, "models", "described", '''
        """A planted model with a description. Second sentence."""
        from neurovision import model_registry
        def _build():
            return "described"
        model_registry["tmp-described"] = _build
    ''')
    init = tmp_path / "models" / "described" / "__init__.py"
    spec = importlib.util.spec_from_file_location("collected_elsewhere", init)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))  # registers before discovery
    assert neurovision.model_registry.description("tmp-described") == ""  # a factory without docstring
    neurovision.add_plugin_folder(tmp_path)
    assert neurovision.model_registry.description("tmp-described") == "A planted model with a description"


def test_plugin_from_an_entry_point(tmp_path, monkeypatch):
    (tmp_path / "extpkg.py").write_text("def make():\n    return 'from an entry point'\n")
    dist = tmp_path / "extpkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extpkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[neurovision.benchmarks]\next-bench = extpkg:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    neurovision.benchmark_registry.discover(force=True)
    assert "ext-bench" in neurovision.benchmark_registry
    assert neurovision.load_benchmark("ext-bench") == "from an entry point"


@pytest.mark.slow
def test_wheel_contains_and_loads_plugins(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(REPO)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("neurovision_ct-*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    assert not (target / "models").exists()  # no generic top-level name is taken
    code = ("import neurovision, pathlib; m = neurovision.load_model('leaky-linear'); "
            "print(pathlib.Path(neurovision.__file__).parent.parent, type(m).__name__)")
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                         check=True, capture_output=True, text=True, cwd=tmp_path)
    assert str(target) in out.stdout and "LeakyLinear" in out.stdout
