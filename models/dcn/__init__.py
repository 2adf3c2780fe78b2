"""Deep Continuous Networks (Tomen et al. 2021) and their baselines, randomly initialised.

Ids: dcn-ode, dcn-full, dcn-sigma-ji, dcn-sigma-t, dcn-sigma-t2, dcn-sigma-alpha-t, odenet,
resnet-blocks, resnet-srf-blocks, resnet-srf-full. Keyword arguments go to
``neurovision.families.dcn.build_network`` (solver, adjoint, block_ms, ...).
"""
from functools import partial

from neurovision import model_registry

IDS = ("dcn-ode", "dcn-full", "dcn-sigma-ji", "dcn-sigma-t", "dcn-sigma-t2", "dcn-sigma-alpha-t",
       "odenet", "resnet-blocks", "resnet-srf-blocks", "resnet-srf-full")


def _build(variant, **kwargs):
    from neurovision.families.dcn import build_network

    return build_network(variant, **kwargs)


for _id in IDS:
    model_registry[_id] = partial(_build, _id)
