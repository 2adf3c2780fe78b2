"""Delayed match-to-sample (Miller et al. 1996), NeuroGym's implementation at dt = 20 ms."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["delayed-match-to-sample"] = _build
