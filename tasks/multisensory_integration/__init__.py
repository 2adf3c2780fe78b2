"""Multisensory integration (Raposo et al. 2012), NeuroGym's implementation at dt = 20 ms."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["multisensory-integration"] = _build
