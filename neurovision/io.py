"""Atomic file writing and safe checkpoint loading.

Every file neurovision writes goes to a temporary file in the destination folder, is fsynced and
then renamed over the target, so a crash, a full disk or a permission error never leaves a
half-written file and never destroys the previous version.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

import torch

from .errors import CorruptFileError, NeurovisionError, OutputPathError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success fsync it and rename it onto ``path``."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputPathError(
            f"cannot write {target}: {exc.strerror or exc}. Choose a writable output path."
        ) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except NeurovisionError:
        raise
    except OSError as exc:  # disk full, quota, permission, I/O error while writing or renaming
        raise OutputPathError(
            f"cannot write {target}: {exc.strerror or exc}; the previous file is unchanged. "
            "Free disk space or choose a writable output path."
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def save_torch(obj, path: str | os.PathLike) -> Path:
    """Atomically ``torch.save`` plain tensors/containers (no arbitrary objects) to ``path``."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def load_torch(path: str | os.PathLike, map_location="cpu"):
    """Load a file written by :func:`save_torch` with ``weights_only=True`` (never unpickles code)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such checkpoint file: {path}; check the path")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for truncated/foreign files
        raise CorruptFileError(
            f"cannot read checkpoint {path}: {type(exc).__name__}: {str(exc)[:200]}. "
            "The file is truncated, corrupt or not a weights-only torch checkpoint; "
            "delete it and re-create it."
        ) from exc
