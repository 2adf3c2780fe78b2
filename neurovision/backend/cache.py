"""On-disk cache of a frozen front-end's time-resolved features per chunk of trials.

An entry is keyed by three SHA-256 fingerprints: the **model** (front-end class, weights and
buffers, area, pooling and step sizes), the **stimulus** (every observation value of the chunk's
trials) and the **schedule** (each trial's periods in steps and the step in ms). Its file
``<folder>/<model key>/<stimulus+schedule key>.pt`` is written atomically and holds the full
keys and a checksum of the features. On reading, an unreadable file, a key that differs (stale)
or a checksum that differs (corrupt) is reported with a warning, deleted and recomputed: a
cache entry is never reused unless all three keys and the content match.
"""
from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import CorruptFileError
from ..io import load_torch, save_torch
from .trials import Trials, concat_trials, draw_trials

FORMAT = "neurovision-feature-cache/1"
STORE_DTYPE = torch.float16


def tensor_digest(tensors) -> str:
    """SHA-256 of named tensors ``[(name, tensor), ...]`` (names, dtypes, shapes and values)."""
    h = hashlib.sha256()
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def model_key(model) -> str:
    """Fingerprint of a :class:`~neurovision.backend.multiarea.MultiAreaModel`'s front-end part."""
    front = model.frontend
    named = list(front.state_dict().items())
    setup = f"{type(front).__module__}.{type(front).__qualname__}|{model.frontend_area}|" \
            f"pool={model.pool}|front_dt={front.dt}|substeps={model.substeps}"
    return hashlib.sha256((setup + tensor_digest(named)).encode()).hexdigest()


def schedule_key(trials: Trials) -> str:
    """Fingerprint of the chunk's trial structure: periods (steps) of every trial and dt (ms)."""
    columns = sorted(c for c in trials.info.columns if c.endswith(("_start", "_end")) or c == "length")
    table = trials.info[columns].to_csv(index=False)
    return hashlib.sha256(f"dt={trials.dt}|{table}".encode()).hexdigest()


@dataclass
class CacheStats:
    """Counts of entries found valid (``hits``), absent (``misses``) and rebuilt (``rebuilt``)."""

    hits: int = 0
    misses: int = 0
    rebuilt: int = 0
    problems: list[str] = field(default_factory=list)


class FeatureCache:
    """Front-end features (N, T, 1 + n_features) of trial chunks in ``folder``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.stats = CacheStats()

    def keys(self, model, trials: Trials, model_fingerprint: str | None = None) -> dict[str, str]:
        """The three fingerprints of ``trials`` seen through ``model``."""
        return {"model": model_fingerprint or model_key(model),
                "stimulus": tensor_digest([("obs", trials.inputs)]),
                "schedule": schedule_key(trials)}

    def path(self, keys: dict[str, str]) -> Path:
        entry = hashlib.sha256((keys["stimulus"] + keys["schedule"]).encode()).hexdigest()
        return self.folder / keys["model"][:16] / f"{entry[:32]}.pt"

    def _reject(self, path: Path, why: str) -> None:
        warnings.warn(f"feature cache entry {path} {why}; recomputing it", RuntimeWarning, stacklevel=3)
        self.stats.rebuilt += 1
        self.stats.problems.append(f"{path.name}: {why}")
        path.unlink(missing_ok=True)

    def load(self, keys: dict[str, str]) -> torch.Tensor | None:
        """The cached features for ``keys``, or None (absent, or invalid and then deleted)."""
        path = self.path(keys)
        if not path.is_file():
            self.stats.misses += 1
            return None
        try:
            payload = load_torch(path)
        except CorruptFileError as exc:
            self._reject(path, f"is unreadable ({str(exc)[:80]})")
            return None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            self._reject(path, "is not a feature-cache file")
            return None
        stale = [k for k in keys if payload.get("keys", {}).get(k) != keys[k]]
        if stale:
            self._reject(path, f"is stale: its {', '.join(stale)} key differs")
            return None
        features = payload.get("features")
        if not isinstance(features, torch.Tensor) or tensor_digest([("features", features)]) != payload.get("checksum"):
            self._reject(path, "is corrupt: its content does not match its checksum")
            return None
        self.stats.hits += 1
        return features

    def save(self, keys: dict[str, str], features: torch.Tensor) -> Path:
        """Write ``features`` for ``keys`` atomically; return the file path."""
        features = features.detach().cpu().to(STORE_DTYPE).contiguous()
        payload = {"format": FORMAT, "keys": dict(keys), "features": features,
                   "checksum": tensor_digest([("features", features)])}
        return save_torch(payload, self.path(keys))

    def features(self, model, trials: Trials, model_fingerprint: str | None = None) -> torch.Tensor:
        """Cached features of ``trials`` through ``model``, computed and stored when needed."""
        keys = self.keys(model, trials, model_fingerprint)
        cached = self.load(keys)
        if cached is not None:
            return cached
        computed = model.features(trials.inputs).to(STORE_DTYPE)
        self.save(keys, computed)
        return computed

    def size_bytes(self) -> int:
        """Total size of the cache files."""
        return sum(p.stat().st_size for p in self.folder.rglob("*.pt")) if self.folder.is_dir() else 0


def chunk_seed(seed: int, chunk: int) -> int:
    """Independent 31-bit seed of chunk ``chunk`` of a trial set drawn with ``seed``."""
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1)[0] % (2**31 - 1))


def feature_trials(model, env, n: int, seed: int, cache: FeatureCache | None = None, chunk: int = 50,
                   fixation_weight: float = 0.1, progress: bool = True) -> Trials:
    """``n`` trials of ``env`` whose inputs are the back-end inputs ``[fixation, features]``.

    Trials are drawn in chunks of ``chunk`` (seeded from ``seed`` and the chunk index); each
    chunk's front-end features come from ``cache`` when valid, else are computed (and stored).
    Features are kept in float16.
    """
    fingerprint = model_key(model) if cache is not None else None
    parts = []
    for c in tqdm(range(-(-n // chunk)), desc="front-end features", disable=not progress, unit="chunk"):
        trials = draw_trials(env, min(chunk, n - c * chunk), chunk_seed(seed, c), fixation_weight)
        if cache is not None:
            feats = cache.features(model, trials, fingerprint)
        else:
            feats = model.features(trials.inputs).to(STORE_DTYPE)
        parts.append(Trials(feats, trials.targets, trials.mask, trials.response, trials.info, trials.dt))
    return concat_trials(parts)
