"""What produced a results file: seed, package versions and configuration, as flat attributes.

:func:`provenance` returns a dict of strings and numbers that NetCDF attributes, JSON files and
checkpoint ``meta`` all accept, so every results file can say how to reproduce it. It holds no
time stamp or host name: the same run with the same seed writes the same attributes.
"""
from __future__ import annotations

import importlib.metadata
import json
import platform

PACKAGES = ("torch", "numpy", "xarray", "scikit-learn", "torchdiffeq",
            "brainscore-vision", "neurogym")


def versions() -> dict[str, str]:
    """Python and installed package versions (packages that are absent are left out)."""
    from .. import __version__

    found = {"python": platform.python_version(), "neurovision": __version__}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def provenance(seed: int | None, config: dict | None = None) -> dict[str, str | int]:
    """Attributes ``seed``, ``versions`` (JSON) and ``config`` (JSON, sorted keys) of a run.

    ``config`` is any mapping of the run's settings (e.g. ``vars(args)`` of a command); values
    that are not JSON types (paths, devices) are stored as strings. ``seed`` None is stored as -1.
    """
    return {
        "seed": -1 if seed is None else int(seed),
        "versions": json.dumps(versions(), sort_keys=True),
        "config": json.dumps(_jsonable(dict(config or {})), sort_keys=True),
    }
