"""Zhang, Meyers et al. 2011: macaque IT rasters (7 objects x 3 positions), decoded over time.

Reads the NeuroDecodeR raster files from the local data folder (``zhang-desimone-it/rasters``;
not shipped with neurovision).
"""
from neurovision import benchmark_registry


def _it():
    from .benchmark import zhang_desimone_it

    return zhang_desimone_it()


benchmark_registry["zhangdesimone.IT"] = _it
