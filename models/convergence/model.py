"""Factories of the registered convergence models (nothing is built at import)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

WEIGHTS = Path(__file__).resolve().parent / "weights"

#: id -> (builder, default keyword arguments)
ARCHITECTURES = {
    "recurrent-resnet": ("resnet", {}),
    "recurrent-resnet-shared": ("resnet", {"coupling": 1.0, "recurrent_init": True}),
    "recurrent-resnet-icr": ("resnet", {"mu": 0.95}),
    "recurrent-resnet-pcr": ("resnet", {"mu": 0.95, "residual": "x", "coupling": 1.0, "recurrent_init": True}),
    "hgru-pathfinder": ("cell", {"cell": "hgru"}),
    "convlstm-pathfinder": ("cell", {"cell": "convlstm"}),
}

#: id -> checkpoint file in weights/
TRAINED = {
    "hgru-pathfinder4-bptt": "hgru-pathfinder4-bptt.pt",
    "hgru-pathfinder4-c-rbp": "hgru-pathfinder4-c-rbp.pt",
    "recurrent-resnet-cifar-w8-lambda0": "resnet-cifar-w8-lambda0.pt",
    "recurrent-resnet-cifar-w8-lambda0.5": "resnet-cifar-w8-lambda0.5.pt",
    "recurrent-resnet-cifar-w8-lambda0.9": "resnet-cifar-w8-lambda0.9.pt",
    "recurrent-resnet-cifar-w8-lambda1": "resnet-cifar-w8-lambda1.pt",
    "recurrent-resnet-cifar-w8-icr": "resnet-cifar-w8-icr.pt",
    "recurrent-resnet-cifar-w8-pcr": "resnet-cifar-w8-pcr.pt",
}


def _build(name: str, **overrides):
    kind, defaults = ARCHITECTURES[name]
    kwargs = {**defaults, **overrides}
    if kind == "resnet":
        from neurovision.families.recurrent.recurrent_resnet import RecurrentResNet

        return RecurrentResNet(**{"width": 16, "blocks": 16, **kwargs})
    from neurovision.families.recurrent.recurrent_classifier import build_recurrent_classifier

    return build_recurrent_classifier(**{"channels": 25, "kernel": 15, "input_shape": (1, 64, 64), **kwargs})


def _load(name: str):
    from neurovision.reliability.weights import verify_weights

    path = verify_weights(WEIGHTS / TRAINED[name])
    if name.startswith("hgru"):
        from neurovision.families.recurrent.pathfinder_run import load_pathfinder_model

        return load_pathfinder_model(path)
    from neurovision.families.recurrent.resnet_run import load_resnet

    return load_resnet(path)


def architecture(name: str):
    """Factory of architecture ``name`` (keyword arguments override its defaults)."""
    return partial(_build, name)


def trained(name: str):
    """Zero-argument factory loading the trained weights of ``name``."""
    return partial(_load, name)
