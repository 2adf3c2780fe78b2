"""Cowley et al. 2023: macaque V4 spike counts to natural images (session 210325 shipped).

``load_benchmark("cowley2023.V4", folder=PATH, session=ID)`` reads any session of the release
in its layout; ``session=["a", "b"]`` scores several and averages (brainscore's Cowley2026).
"""
from neurovision import benchmark_registry


def _v4(folder=None, session=None):
    from .benchmark import cowley_v4

    return cowley_v4(folder, session)


benchmark_registry["cowley2023.V4"] = _v4
