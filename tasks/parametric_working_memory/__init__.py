"""Parametric working memory (Romo et al. 1999), NeuroGym's DelayComparison at dt = 20 ms."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["parametric-working-memory"] = _build
