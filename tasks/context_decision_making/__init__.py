"""Context-dependent decision making (Mante et al. 2013), NeuroGym's implementation at dt = 20 ms."""
from neurovision import task_registry


def _build(**kwargs):
    from .task import build

    return build(**kwargs)


task_registry["context-decision-making"] = _build
