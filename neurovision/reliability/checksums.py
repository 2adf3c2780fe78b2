"""Checksums of data files: computed in chunks and compared with published values."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import CorruptFileError

ALGORITHMS = ("md5", "sha1", "sha256")


def _hasher(algorithm: str):
    if algorithm not in ALGORITHMS:
        raise ValueError(f"checksum algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return hashlib.new(algorithm)


def file_digest(path: str | os.PathLike, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of the file at ``path`` (read in ``chunk``-byte blocks)."""
    hasher = _hasher(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            hasher.update(block)
    return hasher.hexdigest()


def verify_digest(data: bytes | str | os.PathLike, expected: str, algorithm: str = "md5",
                  name: str | None = None) -> None:
    """Raise :class:`CorruptFileError` unless ``data`` (bytes or a file path) has ``expected`` digest."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        hasher = _hasher(algorithm)
        hasher.update(data)
        found, label = hasher.hexdigest(), name or "data"
    else:
        found, label = file_digest(data, algorithm), name or str(Path(data))
    if found != expected.lower():
        raise CorruptFileError(
            f"{label} has {algorithm} {found}, but the published checksum is {expected}; the file "
            "is corrupt, truncated or a different release. Delete it and fetch it again"
        )
