"""Shipped weights: each plugin's ``weights/MANIFEST.json`` names every file with its sha256 and
the command that made it; :func:`verify_weights` checks a file against it before loading."""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import CorruptFileError
from .checksums import file_digest, verify_digest

MANIFEST = "MANIFEST.json"


def read_manifest(folder: str | os.PathLike) -> dict[str, dict]:
    """``{file name: {"sha256": ..., "command": ...}}`` of the weights folder ``folder``."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise CorruptFileError(f"{folder} has no {MANIFEST}: shipped weights must list their sha256 and command")
    return json.loads(path.read_text())


def verify_weights(path: str | os.PathLike) -> Path:
    """``path`` after checking its sha256 against its folder's manifest (CorruptFileError if not)."""
    path = Path(path)
    entry = read_manifest(path.parent).get(path.name)
    if entry is None:
        raise CorruptFileError(f"{path.name} is not listed in {path.parent / MANIFEST}")
    verify_digest(path, entry["sha256"], "sha256", name=str(path))
    return path


def manifest_entry(path: str | os.PathLike, command: str) -> dict:
    """The manifest entry of the weights file ``path`` made by ``command``."""
    return {"sha256": file_digest(path), "bytes": Path(path).stat().st_size, "command": command}
