"""Factories of the registered CordsNet variants (nothing is built at import)."""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path

WEIGHTS = Path(__file__).resolve().parent / "weights"
UNTRAINED = ("cordsnet-r2", "cordsnet-r4", "cordsnet-r6", "cordsnet-r8")
#: trained variants: id -> checkpoint file in weights/ (how they were made: docs/cordsnet.md and
#: weights/MANIFEST.json). ``cordsnet-r2-cifar10`` is the fine-tuned ReLU network (CNN -> fit ->
#: linear -> anneal -> fine-tune); ``cordsnet-r2-cifar10-linear`` is the fit stage of the earlier
#: CIFAR run (PReLU slope 1, never trained with the dynamics loss; its rates and spontaneous state
#: may be negative), kept as the linear control of the scoreboard and the baselines table.
TRAINED = {"cordsnet-r2-cifar10": "cordsnet-r2-cifar10.pt", "cordsnet-r2-cifar10-linear": "cordsnet-r2-cifar10-linear.pt",
           "cordsnet-r2-fmnist": "cordsnet-r2-fmnist.pt"}
#: variants loading the authors' released ImageNet weights (path argument or environment)
RELEASED = ("cordsnet-r8-imagenet",)
RELEASED_ENV = "NEUROVISION_CORDSNET_R8"


def _untrained(name: str, **overrides):
    from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

    return CordsNet(CordsNetConfig(depth=int(name.split("-r")[1])), **overrides).eval()


def _trained(name: str):
    from neurovision.families.cordsnet.network import load_cordsnet
    from neurovision.reliability.weights import verify_weights

    return load_cordsnet(verify_weights(WEIGHTS / TRAINED[name]), model_id=name)


def _released(name: str, path: str | os.PathLike | None = None):
    from neurovision.families.cordsnet.released import load_released

    path = path or os.environ.get(RELEASED_ENV)
    if not path:
        raise FileNotFoundError(
            f"{name} needs the authors' released checkpoint (cordsnetr8.pth from "
            f"github.com/wmws2/cordsnet): pass load_model({name!r}, path=...) or set {RELEASED_ENV}"
        )
    return load_released(path, depth=8)


def build(name: str):
    """Zero-argument-capable factory of variant ``name``."""
    if name in TRAINED:
        return partial(_trained, name)
    if name in RELEASED:
        return partial(_released, name)
    return partial(_untrained, name)
