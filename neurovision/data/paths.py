"""Where local data lives: ``$NEUROVISION_DATA`` or the ``shared/data`` folder beside a checkout."""
from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def data_root() -> Path | None:
    """The local data folder, or None when none is found (``$NEUROVISION_DATA``, when set, is the
    only place looked at, so pointing it at an empty path runs as if no data were present)."""
    env = os.environ.get("NEUROVISION_DATA")
    candidates = [Path(env)] if env else [_REPO.parent / "shared" / "data", _REPO / "shared" / "data"]
    for path in candidates:
        if path.is_dir():
            return path
    return None


def data_path(*parts: str) -> Path:
    """Path of a file under the local data folder; FileNotFoundError saying how to provide it."""
    root = data_root()
    if root is None or not (root.joinpath(*parts)).exists():
        raise FileNotFoundError(
            f"local data {'/'.join(parts)} not found (searched $NEUROVISION_DATA and "
            f"{_REPO.parent / 'shared' / 'data'}); set NEUROVISION_DATA to the folder holding it"
        )
    return root.joinpath(*parts)
