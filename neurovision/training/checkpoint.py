"""Checkpoints: atomic, weights-only, validated against the model they are loaded into.

A checkpoint is a dict of tensors and plain values::

    {"format": "neurovision-checkpoint/1", "model_id": str, "model": state_dict,
     "optimizer": state_dict | None, "progress": {...}, "rng": {...}, "meta": {...}}
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import CorruptFileError, ShapeError
from ..io import load_torch, save_torch
from ..reliability.provenance import provenance
from ..seeding import rng_state, set_rng_state

FORMAT = "neurovision-checkpoint/1"


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    model_id: str,
    optimizer: torch.optim.Optimizer | None = None,
    progress: dict | None = None,
    meta: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Write model (+ optimizer, progress counters, RNG states) atomically to ``path``."""
    payload = {
        "format": FORMAT,
        "model_id": model_id,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "progress": dict(progress or {}),
        "rng": rng_state(),
        "meta": {"versions": provenance(None)["versions"], **(meta or {})},
        "extra": dict(extra or {}),
    }
    return save_torch(payload, path)


def state_dict_diff(expected: dict, found: dict) -> list[str]:
    """Human-readable differences between two state dicts (missing, unexpected, shapes)."""
    lines = [f"missing key {k}" for k in expected if k not in found]
    lines += [f"unexpected key {k}" for k in found if k not in expected]
    for key in expected:
        if key in found and tuple(expected[key].shape) != tuple(found[key].shape):
            lines.append(f"{key}: checkpoint {tuple(found[key].shape)} vs model {tuple(expected[key].shape)}")
    return lines


def load_state_dict_checked(model: nn.Module, state: dict, source: str = "checkpoint") -> None:
    """``model.load_state_dict`` after checking keys and shapes, with a readable diff."""
    diff = state_dict_diff(model.state_dict(), state)
    if diff:
        shown = "; ".join(diff[:12]) + (f"; ... {len(diff) - 12} more" if len(diff) > 12 else "")
        raise ShapeError(
            f"{source} does not fit {type(model).__name__}: {shown}. Check that the checkpoint "
            "was written for this model id and configuration"
        )
    model.load_state_dict(state)


def load_checkpoint(
    path: str | os.PathLike,
    model: nn.Module | None = None,
    model_id: str | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    restore_rng: bool = False,
) -> dict:
    """Read a checkpoint (weights only) and load it into ``model``/``optimizer`` if given.

    Raises :class:`CorruptFileError` for unreadable files or files of another format and
    :class:`ShapeError` when the checkpoint belongs to another model id or architecture.
    """
    payload = load_torch(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CorruptFileError(
            f"{path} is not a neurovision checkpoint ({FORMAT}); load plain state dicts with "
            "neurovision.io.load_torch, or write checkpoints with save_checkpoint"
        )
    if model_id is not None and payload["model_id"] != model_id:
        raise ShapeError(
            f"{path} holds weights of model {payload['model_id']!r}, not {model_id!r}; "
            f"load it with load_model({payload['model_id']!r})"
        )
    if model is not None:
        load_state_dict_checked(model, payload["model"], source=str(path))
    if optimizer is not None and payload.get("optimizer") is not None:
        optimizer.load_state_dict(payload["optimizer"])
    if restore_rng:
        set_rng_state(payload["rng"])
    return payload
