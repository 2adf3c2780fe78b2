"""The registered architectures: DCNs, their meta-parametrised forms and the baselines.

Each variant fixes the block type (ODE or residual), the convolutions inside blocks, in the stem
and in the downsampling stages (SRF or pixel), the activation and the integration time T
(Tomen et al. 2021, Table 1, Table 4, appendix A.2). ``reference_params`` is the paper's count.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .layers import Head, TimeConv2d, activation, norm
from .network import ContinuousNetwork
from .ode import ODEBlock, ODEFunc, ResidualBlock
from .srf import SRFConv2d

WIDTHS = (32, 64, 128)


@dataclass(frozen=True)
class Variant:
    """How one architecture is assembled."""

    block: str                 # "ode" or "residual"
    conv: str                  # convolutions inside blocks: "srf" or "pixel"
    stem: str                  # "srf" or "pixel"
    downsample: str            # "srf" or "pixel"
    act: str                   # "celu" or "relu"
    T: float                   # integration time of ODE blocks
    reference_params: int | None
    per_filter_scale: bool = False
    parametrisation: str = "static"
    description: str = ""


VARIANTS: dict[str, Variant] = {
    "dcn-ode": Variant("ode", "srf", "pixel", "pixel", "celu", 2.0, 429_000,
                       description="DCN with SRF filters inside the ODE blocks only"),
    "dcn-full": Variant("ode", "srf", "srf", "srf", "celu", 2.0, 326_000,
                        description="DCN with SRF filters everywhere, downsampling included"),
    "dcn-sigma-ji": Variant("ode", "srf", "pixel", "pixel", "celu", 2.0, 472_000, per_filter_scale=True,
                            description="DCN-ODE with one learnable scale per filter (7x7 support)"),
    "dcn-sigma-t": Variant("ode", "srf", "pixel", "pixel", "celu", 2.0, None, parametrisation="sigma-linear",
                           description="DCN-ODE with sigma = 2^(a t + b)"),
    "dcn-sigma-t2": Variant("ode", "srf", "pixel", "pixel", "celu", 2.0, None, parametrisation="sigma-quadratic",
                            description="DCN-ODE with sigma = 2^(a t^2 + b t + c)"),
    "dcn-sigma-alpha-t": Variant("ode", "srf", "pixel", "pixel", "celu", 2.0, None,
                                 parametrisation="sigma-alpha-linear",
                                 description="DCN-ODE with sigma = 2^(a_s t + b_s) and alpha = a_alpha t + b_alpha"),
    "odenet": Variant("ode", "pixel", "pixel", "pixel", "relu", 1.0, 560_000,
                      description="ODE-Net (Chen et al. 2018): 3x3 pixel kernels in the ODE blocks"),
    "resnet-blocks": Variant("residual", "pixel", "pixel", "pixel", "relu", 1.0, 555_000,
                             description="discrete residual blocks with 3x3 pixel kernels"),
    "resnet-srf-blocks": Variant("residual", "srf", "pixel", "pixel", "relu", 1.0, 426_000,
                                 description="discrete residual blocks with SRF filters"),
    "resnet-srf-full": Variant("residual", "srf", "srf", "srf", "relu", 1.0, 323_000,
                               description="discrete residual blocks with SRF filters everywhere"),
}


def _block_conv(spec: Variant, prefix: str):
    names = iter(("conv1", "conv2"))
    if spec.conv == "pixel":
        if spec.block == "ode":
            return lambda c: TimeConv2d(c, c)
        return lambda c: nn.Conv2d(c, c, 3, padding=1, bias=False)
    return lambda c: SRFConv2d(c, c, time_channel=spec.block == "ode", per_filter_scale=spec.per_filter_scale,
                               parametrisation=spec.parametrisation, name=f"{prefix}.{next(names)}")


def _stem(spec: Variant) -> nn.Module:
    if spec.stem == "srf":
        return SRFConv2d(3, WIDTHS[0], name="stem")
    return nn.Conv2d(3, WIDTHS[0], 3)


def _downsample(spec: Variant, c_in: int, c_out: int, name: str) -> nn.Module:
    conv = (SRFConv2d(c_in, c_out, stride=2, name=name) if spec.downsample == "srf"
            else nn.Conv2d(c_in, c_out, 4, 2, 1))
    return nn.Sequential(norm(c_in), activation(spec.act), conv)


def make_block(variant: str, width: int, name: str, adjoint: bool = False, rtol: float = 1e-3,
               atol: float = 1e-3, method: str = "dopri5", steps: int | None = None) -> nn.Module:
    """One block of ``variant``'s kind (ODE or residual) with ``width`` channels."""
    spec = VARIANTS[variant]
    conv = _block_conv(spec, name)
    if spec.block == "ode":
        return ODEBlock(ODEFunc(width, conv, spec.act), spec.T, rtol, atol, method, adjoint, steps, name=name)
    return ResidualBlock(width, conv, spec.act, name=name)


def build_network(variant: str, num_classes: int = 10, adjoint: bool = False, rtol: float = 1e-3,
                  atol: float = 1e-3, method: str = "dopri5", steps: int | None = None,
                  block_ms: float = 50.0) -> ContinuousNetwork:
    """Build ``variant`` (a key of :data:`VARIANTS`) with freshly initialised weights.

    ODE blocks use ``method`` (dopri5 with ``rtol``/``atol``, or a fixed-step solver with
    ``steps`` steps per block) and the adjoint method if ``adjoint``; ``block_ms`` maps each
    block's depth-time to milliseconds (see :mod:`.network`).
    """
    if variant not in VARIANTS:
        from ...errors import UnknownIdError

        raise UnknownIdError("DCN variant", variant, list(VARIANTS))
    spec = VARIANTS[variant]
    blocks = [make_block(variant, width, f"block{b + 1}", adjoint, rtol, atol, method, steps)
              for b, width in enumerate(WIDTHS)]
    downsample = [_downsample(spec, WIDTHS[i], WIDTHS[i + 1], f"down{i + 1}") for i in range(2)]
    return ContinuousNetwork(_stem(spec), blocks, downsample, Head(WIDTHS[-1], num_classes, spec.act),
                             block_ms=block_ms, name=variant)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
