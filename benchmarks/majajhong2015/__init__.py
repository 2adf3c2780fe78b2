"""MajajHong2015 V4 and IT over time (Brain-Score's public temporal assemblies, 10-ms bins).

The assemblies and the 3,200 HvM images are downloaded by brainscore-vision (internet needed);
``benchmark.from_local`` builds the same benchmarks from a NetCDF assembly and image folder.
"""
from neurovision import benchmark_registry


def _temporal(region: str):
    def factory():
        from .benchmark import from_brainscore

        return from_brainscore(region)

    return factory


benchmark_registry["majajhong2015.V4-temporal"] = _temporal("V4")
benchmark_registry["majajhong2015.IT-temporal"] = _temporal("IT")
