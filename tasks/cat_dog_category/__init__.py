"""Delayed match-to-category with cat and dog photographs (after Freedman et al. 2001)."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["cat-dog-category"] = _build
