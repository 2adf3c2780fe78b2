"""Cowley et al. 2023: macaque V4 spike counts to 640 natural images (shipped with the plugin)."""
from neurovision import benchmark_registry


def _v4():
    from .benchmark import cowley_v4

    return cowley_v4()


benchmark_registry["cowley2023.V4"] = _v4
