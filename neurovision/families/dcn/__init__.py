"""Deep Continuous Networks (Tomen, Pintea & van Gemert, ICML 2021) and their baselines.

Structured receptive fields (Gaussian-derivative filters with learnable scale) inside neural-ODE
blocks, exposed as :class:`~neurovision.dynamics.SampledModel` s whose feature maps can be
sampled at any depth-time (see :mod:`.network` for the mapping to milliseconds).
"""
from .basis import ORDERS, basis_2d, derivatives_1d, filters, half_width
from .cache import filter_scope
from .network import ContinuousNetwork
from .ode import ODEBlock, ODEFunc, ResidualBlock
from .srf import SRFConv2d
from .variants import VARIANTS, Variant, build_network, count_parameters

__all__ = [
    "ORDERS", "VARIANTS", "ContinuousNetwork", "ODEBlock", "ODEFunc", "ResidualBlock", "SRFConv2d",
    "Variant", "basis_2d", "build_network", "count_parameters", "derivatives_1d", "filter_scope",
    "filters", "half_width",
]
