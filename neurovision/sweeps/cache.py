"""Job results on disk under their key, written atomically: scores as ``<folder>/<key[:2]>/<key>.nc``,
training runs as folders ``<folder>/<key[:2]>/<key>/``."""
from __future__ import annotations

import os
from pathlib import Path


class ResultCache:
    """A folder of finished scoring results (Datasets as NetCDF files)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.nc"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, key: str, result) -> Path:
        from ..brain.results import save_results

        return save_results(result, self.path(key))

    def get(self, key: str):
        from ..brain.results import load_results

        return load_results(self.path(key))


class RunFolderCache(ResultCache):
    """A folder of finished training runs: ``<folder>/<key[:2]>/<key>/`` holds one run's files
    (``evaluation.json``, ``model.pt``, ``trials.csv``, ...), moved there in one rename."""

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def has(self, key: str) -> bool:
        return (self.path(key) / "evaluation.json").is_file()

    def put(self, key: str, result: dict[str, bytes]) -> Path:
        """Write ``result`` (relative file path -> bytes) as the run folder of ``key``."""
        import shutil
        import tempfile

        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=target.parent))
        for name, data in result.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        if target.exists():  # an incomplete folder (no evaluation.json) left by hand
            shutil.rmtree(target)
        os.replace(staging, target)
        return target

    def get(self, key: str) -> dict:
        """The run's evaluation summary (its ``evaluation.json``)."""
        import json

        return json.loads((self.path(key) / "evaluation.json").read_text())
