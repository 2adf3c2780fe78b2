"""Memory pro (Yang et al. 2019, Nat. Neurosci.): a direction held through a delay (ring attractor)."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["memory-pro"] = _build
