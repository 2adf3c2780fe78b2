"""Oculomotor delayed response to one of 8 locations (Funahashi, Bruce & Goldman-Rakic 1989)."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["delayed-saccade"] = _build
