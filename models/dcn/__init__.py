"""Deep Continuous Networks (Tomen et al. 2021) and their baselines.

Randomly initialised: dcn-ode, dcn-full, dcn-sigma-ji, dcn-sigma-t, dcn-sigma-t2,
dcn-sigma-alpha-t, odenet, resnet-blocks, resnet-srf-blocks, resnet-srf-full. Keyword arguments
go to ``neurovision.families.dcn.build_network`` (solver, adjoint, block_ms, ...).

Trained (weights in ``weights/``, listed in its MANIFEST.json): ``dcn-ode-cifar10``, a DCN-ODE
trained on the CIFAR-10 subset (1,000 images per class, 8 epochs, one RK4 step per block;
51.9 % on 2,000 test images), built with its training solver.
"""
from functools import partial
from pathlib import Path

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


WEIGHTS = Path(__file__).resolve().parent / "weights"
#: trained id -> checkpoint file in weights/
TRAINED = {"dcn-ode-cifar10": "dcn-ode-cifar10.pt"}


def _build(variant, **kwargs):
    from neurovision.families.dcn import build_network

    return build_network(variant, **kwargs)


for _id, _text in IDS.items():
    model_registry[_id] = partial(_build, _id)
    model_registry.describe(_id, _text)


def _load(name, **build):
    from neurovision.families.dcn.analysis import load_trained
    from neurovision.reliability.weights import verify_weights

    return load_trained(verify_weights(WEIGHTS / TRAINED[name]), **build)


model_registry["dcn-ode-cifar10"] = partial(_load, "dcn-ode-cifar10")
model_registry.describe("dcn-ode-cifar10", "DCN-ODE trained on the CIFAR-10 subset (51.9 % on 2,000 test "
                        "images; shipped weights, its training solver: one RK4 step per block)")
