"""Job results on disk under their key: ``<folder>/<key[:2]>/<key>.nc``, written atomically."""
from __future__ import annotations

import os
from pathlib import Path


class ResultCache:
    """A folder of finished job results (scoring Datasets as NetCDF)."""

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
