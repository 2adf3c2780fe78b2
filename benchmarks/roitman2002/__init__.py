"""roitman2002.LIP: LIP activity and behaviour in the reaction-time random-dot task (Roitman & Shadlen 2002)."""
from neurovision import benchmark_registry


def _build(**kwargs):
    from .benchmark import Roitman2002LIP

    return Roitman2002LIP(**kwargs)


benchmark_registry["roitman2002.LIP"] = _build
