"""Delayed match-to-numerosity with dot arrays (Nieder, Freedman & Miller 2002)."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["numerosity"] = _build
