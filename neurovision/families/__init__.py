"""Model families: everything about one family (network, variants, training protocol, released
weights, experiment functions) in one package. Families use the core; the core imports no family.

``cordsnet`` (Soo et al. 2024), ``dcn`` (Tomen et al. 2021), ``recurrent`` (recurrent ResNets,
hGRU / convLSTM, C-RBP), ``baselines`` (pixels and a Gabor V1 bank, for scoring).
"""
from importlib import import_module

__all__ = ["baselines", "cordsnet", "dcn", "recurrent"]


def __getattr__(name: str):
    if name in __all__:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
