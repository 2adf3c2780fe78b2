"""Write a brainscore-vision model plugin folder for a registered neurovision model.

The folder follows brainscore-vision's plugin layout, so it can be copied into
``brainscore_vision/models/`` of a checkout and submitted to Brain-Score:

* ``__init__.py``: one registration line ``model_registry['<id>'] = ...`` (Brain-Score finds
  plugins by that text);
* ``model.py``: builds :class:`~neurovision.brain.brainscore_model.NeurovisionBrainModel`
  with the region-to-area commitment, visual degrees, presentation time and latency;
* ``test.py``: checks that the model loads and records a time-resolved assembly;
* ``requirements.txt``: this project with its brainscore extra, under the distribution name
  and version of the installed copy (read from the checkout's ``pyproject.toml`` when run from
  one, else from the installed metadata), or any pip requirement given (a wheel path or URL).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import DataError, OutputPathError
from ..io import atomic_path

INIT = '''"""{identifier}: neurovision model {model_id!r} as a Brain-Score model (exported by neurovision)."""
from brainscore_vision import model_registry

from .model import get_model

model_registry['{identifier}'] = lambda: get_model('{identifier}')
'''

MODEL = '''"""Builds {identifier} from the neurovision model registry (see neurovision's docs/brainscore.md)."""
from neurovision.brain.brainscore_model import NeurovisionBrainModel

MODEL_ID = {model_id!r}
#: brain region -> model area (the model's commitment)
REGION_AREAS = {region_areas}
SETTINGS = {settings}
BIBTEX = {bibtex!r}


def get_model(identifier: str):
    return NeurovisionBrainModel(MODEL_ID, identifier=identifier, region_areas=REGION_AREAS, **SETTINGS)


def get_bibtex(identifier: str) -> str:
    return BIBTEX
'''

TEST = '''import numpy as np
import pytest
from PIL import Image

from brainscore_vision import load_model


@pytest.mark.parametrize("region", {regions!r})
def test_records_time_resolved_activity(tmp_path, region):
    model = load_model({identifier!r})
    assert model.identifier == {identifier!r}
    assert model.visual_degrees() == {visual_degrees!r}
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"image{{i}}.png")
        Image.fromarray(np.full((32, 32, 3), 60 * i, dtype=np.uint8)).save(paths[-1])
    model.start_recording(region, [(70, 170), (170, 270)])
    assembly = model.look_at([str(p) for p in paths])
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    assert assembly.sizes["presentation"] == 2 and assembly.sizes["time_bin"] == 2
    model.start_recording(region, [np.array((50, 150), dtype=object)])  # single-bin benchmarks
    assert model.look_at([str(p) for p in paths]).sizes["time_bin"] == 1
'''


def project_requirement() -> str:
    """``<distribution>[brainscore]==<version>`` of this project as installed here.

    The name and version come from the checkout's ``pyproject.toml`` when the package runs
    from a checkout, else from the installed distribution that provides ``neurovision``.
    """
    import importlib.metadata as metadata

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        project = tomllib.loads(pyproject.read_text()).get("project", {})
        if project.get("name") and project.get("version"):
            return f"{project['name']}[brainscore]=={project['version']}"
    names = metadata.packages_distributions().get("neurovision", [])
    if not names:
        raise DataError("cannot tell which distribution installed neurovision; pass requirement= "
                        "(a pip requirement such as a wheel path) to export_plugin")
    return f"{names[0]}[brainscore]=={metadata.version(names[0])}"


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def export_plugin(model_id: str, folder: str | os.PathLike, region_areas: dict[str, str] | None = None,
                  identifier: str | None = None, visual_degrees: float | None = None,
                  stimulus_ms: float = 100.0, latency_ms: float = 0.0, max_features: int = 1024,
                  bibtex: str = "", requirement: str | None = None) -> Path:
    """Write the plugin folder for ``model_id`` into ``folder`` (its name: a Python identifier).

    ``region_areas`` defaults to the model's ``region_areas`` declaration; ``identifier`` (the
    Brain-Score model id) defaults to ``model_id``; ``requirement`` (the line installing this
    project) defaults to :func:`project_requirement`.
    """
    from ..registry import load_model

    folder = Path(folder)
    if not folder.name.isidentifier():
        raise OutputPathError(
            f"Brain-Score imports plugin folders as Python modules; {folder.name!r} is not a valid "
            f"name. Use e.g. {folder.parent / model_id.replace('-', '_').replace('.', '_')}"
        )
    model = load_model(model_id)
    areas = dict(region_areas or getattr(model, "region_areas", None) or {})
    if not areas:
        raise OutputPathError(
            f"model {model_id!r} declares no region-to-area mapping; pass one, e.g. "
            f"--region-areas V4={model.areas[0]},IT={model.areas[-1]} (areas: {', '.join(model.areas)})"
        )
    for area in areas.values():
        model.check_area(area)
    identifier = identifier or model_id
    degrees = float(visual_degrees if visual_degrees is not None else model.visual_degrees)
    settings = {"visual_degrees": degrees, "stimulus_ms": float(stimulus_ms),
                "latency_ms": float(latency_ms), "max_features": int(max_features)}
    files = {
        "__init__.py": INIT.format(identifier=identifier, model_id=model_id),
        "model.py": MODEL.format(identifier=identifier, model_id=model_id, bibtex=bibtex,
                                 region_areas=json.dumps(areas), settings=repr(settings)),
        "test.py": TEST.format(identifier=identifier, regions=sorted(areas), visual_degrees=degrees),
        "requirements.txt": f"{requirement or project_requirement()}\n",
    }
    for name, text in files.items():
        _write(folder / name, text)
    return folder
