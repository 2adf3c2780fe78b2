"""The repository stays slim: a size budget, checkpoints only beside their plugin with a manifest,
and a core that imports no model family."""
import ast
import json
import subprocess
from pathlib import Path

import pytest

from neurovision.reliability.checksums import file_digest

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000
CORE = ("registry.py", "errors.py", "io.py", "seeding.py", "dynamics", "brain", "backend", "analysis",
        "training", "data", "reliability")


def tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [REPO / name for name in out.decode().split("\0") if name and (REPO / name).is_file()]


def vendored(path: Path) -> bool:
    """Benchmark data shipped with its licence: ``benchmarks/<id>/data/...``."""
    parts = path.relative_to(REPO).parts
    return parts[0] == "benchmarks" and len(parts) > 3 and parts[2] == "data"


def plugin_weights(path: Path) -> bool:
    parts = path.relative_to(REPO).parts
    return parts[0] == "models" and len(parts) == 4 and parts[2] == "weights"


def size(paths) -> int:
    return sum(p.stat().st_size for p in paths)


def test_size_budget():
    files = tracked()
    own = [p for p in files if not vendored(p)]
    results = [p for p in files if p.relative_to(REPO).parts[0] == "experiments"]
    assert size(own) <= 15 * MB, f"tracked files outside vendored data: {size(own) / MB:.1f} MB > 15 MB"
    assert size(results) <= 5 * MB, f"experiments/: {size(results) / MB:.1f} MB > 5 MB"


def test_checkpoints_live_beside_their_plugin_with_sha256_and_command():
    weights = [p for p in tracked() if p.suffix in (".pt", ".pth", ".ckpt")]
    stray = [str(p.relative_to(REPO)) for p in weights if not plugin_weights(p)]
    assert not stray, f"checkpoints outside models/<id>/weights/: {stray}"
    for path in weights:
        manifest = json.loads((path.parent / "MANIFEST.json").read_text())
        entry = manifest[path.name]
        assert entry["sha256"] == file_digest(path), f"{path.name}: sha256 differs from its manifest"
        assert entry["command"].strip(), f"{path.name}: the manifest must give the command that made it"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            names.add(".".join(base + ([node.module] if node.module else [])))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_core_imports_no_family_and_analysis_no_training_code():
    package = REPO / "neurovision"
    for part in CORE:
        for path in ([package / part] if part.endswith(".py") else sorted((package / part).rglob("*.py"))):
            imported = _imports(path)
            families = sorted(name for name in imported if name.startswith("neurovision.families"))
            assert not families, f"{path.relative_to(REPO)} (core) imports {families}"
            if part == "analysis":
                training = sorted(name for name in imported if name.startswith("neurovision.training"))
                assert not training, f"{path.relative_to(REPO)} (analysis) imports {training}"


def test_an_absent_data_folder_is_reported_as_absent(monkeypatch, tmp_path):
    from neurovision.data.paths import data_root

    monkeypatch.setenv("NEUROVISION_DATA", str(tmp_path / "missing"))
    assert data_root() is None  # data-dependent tests then skip through the shared_data fixture
    monkeypatch.setenv("NEUROVISION_DATA", str(tmp_path))
    assert data_root() == tmp_path
