"""Reaction-time random-dot motion discrimination (Roitman & Shadlen 2002)."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["random-dot-motion"] = _build
