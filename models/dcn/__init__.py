"""Deep Continuous Networks (Tomen et al. 2021) and their baselines, randomly initialised.

Ids: dcn-ode, dcn-full, dcn-sigma-ji, dcn-sigma-t, dcn-sigma-t2, dcn-sigma-alpha-t, odenet,
resnet-blocks, resnet-srf-blocks, resnet-srf-full. Keyword arguments go to
``neurovision.families.dcn.build_network`` (solver, adjoint, block_ms, ...).
"""
from functools import partial

from neurovision import model_registry

#: id -> one line (the variants themselves: neurovision.families.dcn.variants)
IDS = {
    "dcn-ode": "DCN with SRF filters inside the ODE blocks",
    "dcn-full": "DCN with SRF filters everywhere, downsampling included",
    "dcn-sigma-ji": "DCN-ODE with one learnable scale per filter",
    "dcn-sigma-t": "DCN-ODE with a scale changing in depth-time, sigma = 2^(a t + b)",
    "dcn-sigma-t2": "DCN-ODE with sigma = 2^(a t^2 + b t + c)",
    "dcn-sigma-alpha-t": "DCN-ODE with scale and order changing in depth-time",
    "odenet": "ODE-Net (Chen et al. 2018), 3 x 3 pixel kernels in the ODE blocks",
    "resnet-blocks": "discrete residual blocks with 3 x 3 pixel kernels",
    "resnet-srf-blocks": "discrete residual blocks with SRF filters",
    "resnet-srf-full": "discrete residual blocks with SRF filters everywhere",
}


def _build(variant, **kwargs):
    from neurovision.families.dcn import build_network

    return build_network(variant, **kwargs)


for _id, _text in IDS.items():
    model_registry[_id] = partial(_build, _id)
    model_registry.describe(_id, _text)
