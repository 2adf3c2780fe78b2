"""Untrained controls of models loaded from a checkpoint: the checkpoint's architecture, random weights.

A trained recurrent ResNet, Pathfinder hGRU or DCN is rebuilt from its checkpoint's metadata
(the training run's configuration and input shape, or the DCN variant and its training solver)
exactly as loading does, but its weights are left at the architecture's own initialisation
under each control's seed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ...errors import NeurovisionError
from .untrained import UntrainedControl, seeded, untrained_controls


def checkpoint_of(model_id: str) -> str | None:
    """Path of the checkpoint a registered id loads, when its plugin lists it (``TRAINED`` file
    names under ``WEIGHTS``, next to a factory ``partial(loader, id)``), else None."""
    import sys

    from ...registry import model_registry

    factory = model_registry[model_id]
    module = sys.modules.get(getattr(getattr(factory, "func", None), "__module__", ""), None)
    files, folder = getattr(module, "TRAINED", {}), getattr(module, "WEIGHTS", None)
    return str(folder / files[model_id]) if folder is not None and model_id in files else None


def build_untrained(path: str):
    """The network a checkpoint at ``path`` holds, built from its metadata with random weights."""
    from ...training.checkpoint import load_checkpoint

    payload = load_checkpoint(path)
    meta = payload["meta"]
    config = _dcn_config(meta)
    if config is not None:
        from ..dcn import build_network

        return build_network(payload["model_id"], method=config["method"], steps=config.get("steps")).eval()
    run, shape = json.loads(meta["run"]), tuple(json.loads(meta["input_shape"]))
    if "cell" in run:
        from ..recurrent.pathfinder_run import PathfinderRun, build_recurrent_classifier

        cfg = PathfinderRun(**run)
        return build_recurrent_classifier(cfg.cell, cfg.channels, cfg.kernel, shape, int(meta["classes"]), cfg.steps).eval()
    from ..recurrent.resnet_run import ResNetRun, build_resnet

    return build_resnet(ResNetRun(**run), shape).eval()


def _dcn_config(meta: dict) -> dict | None:
    """The DCN training run's configuration in checkpoint metadata (it names the variant), else None."""
    config = json.loads(meta.get("config", "{}"))
    return config if "variant" in config else None


@dataclass(frozen=True)
class CheckpointControl(UntrainedControl):
    """``architecture`` is a checkpoint path; the control is its architecture built under ``seed``."""

    def __call__(self):
        with seeded(self.seed):
            return build_untrained(self.architecture)


def checkpoint_controls(model_id: str, n_seeds: int = 3) -> list[UntrainedControl]:
    """Seeds ``0 .. n_seeds - 1`` of ``model_id``'s checkpoint architecture; NeurovisionError if it has none."""
    from ...training.checkpoint import load_checkpoint

    path = checkpoint_of(model_id)
    if path is None:
        raise NeurovisionError(f"model {model_id!r} has no known untrained counterpart and records no checkpoint")
    meta = load_checkpoint(path)["meta"]
    if _dcn_config(meta) is None and ("run" not in meta or "input_shape" not in meta):
        raise NeurovisionError(f"checkpoint {path} of {model_id!r} holds no run configuration to rebuild it from")
    return [CheckpointControl(model_id, path, seed) for seed in range(int(n_seeds))]


def untrained_for(model_id: str, n_seeds: int = 3) -> list[UntrainedControl]:
    """Untrained controls of ``model_id``: its registered counterpart, else its checkpoint's architecture."""
    try:
        return untrained_controls(model_id, n_seeds)
    except NeurovisionError:
        return checkpoint_controls(model_id, n_seeds)
