"""Perceptual decision making (Britten et al. 1992), NeuroGym's implementation at dt = 20 ms."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["perceptual-decision-making"] = _build
