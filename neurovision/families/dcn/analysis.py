"""Analyses of trained DCNs and baselines (Tomen et al. 2021, Sec. 3.2-3.3, Figs. 3-5).

* pattern completion (eq. 4): ``D(t) = sum |h_im(t) - h_masked(t)| / A`` within ODE block 1,
  where the masked image has a centred ``n x n`` square set to zero and ``A = sum |h_im(t)|``,
  summed over the whole map or over the mask's footprint only; accuracy as a function of the
  mask size;
* contrast: inputs ``c H``; accuracy and function evaluations per block, naively and with the
  time rescaling ``T^ = c T`` of the first ``rescaled_blocks`` blocks (their inputs scaled by c);
* learned scales: sigma of every SRF layer against depth, and the distribution of the per-filter
  scales sigma^ji (skewness and a log-normal fit).
"""
from __future__ import annotations

import json

import numpy as np
import torch
from scipy import stats

from . import SRFConv2d, build_network
from .ode import ODEBlock
from ...training.checkpoint import load_checkpoint
from .classification import evaluate


def load_trained(path, **build) -> torch.nn.Module:
    """A network saved by a DCN training run, with its training solver unless ``build`` overrides it."""
    payload = load_checkpoint(path)
    config = json.loads(payload["meta"].get("config", "{}"))
    options = {"method": config.get("method", "dopri5"), "steps": config.get("steps"), **build}
    model = build_network(payload["model_id"], **options)
    load_checkpoint(path, model, payload["model_id"])
    return model.eval()


def mask_center(images: torch.Tensor, n: int) -> torch.Tensor:
    """Copy of ``images`` with a centred ``n x n`` px square set to zero."""
    if not 0 <= n <= min(images.shape[-2:]):
        raise ValueError(f"mask size {n} px must lie in [0, {min(images.shape[-2:])}]")
    out = images.clone()
    top, left = (images.shape[-2] - n) // 2, (images.shape[-1] - n) // 2
    out[..., top:top + n, left:left + n] = 0.0
    return out


COMPLETION_REGIONS = ("map", "mask")


@torch.no_grad()
def completion_distance(model, images: torch.Tensor, n: int, depth_times, block: int = 0,
                        region: str = "map") -> np.ndarray:
    """``D(t)`` per image at ``depth_times`` within ``block``: array ``(len(depth_times), N)``.

    ``region="map"`` sums over the whole feature map (all channels and positions); ``"mask"``
    only over the positions where the block's input already differs at ``t = 0`` (the mask's
    footprint), with ``A(t)`` the intact amplitude over the same positions: how far the masked
    region's features are from the intact ones, i.e. how much of the hole is completed.
    """
    if region not in COMPLETION_REGIONS:
        raise ValueError(f"region must be one of {COMPLETION_REGIONS}, got {region!r}")
    intact = model.block_trajectory(images, block, depth_times)  # (times, N, C, H, W)
    masked = model.block_trajectory(mask_center(images, n), block, depth_times)
    diff = (intact - masked).abs()
    amplitude = intact.abs()
    if region == "mask":
        start = diff[0].sum(1, keepdim=True)  # (N, 1, H, W); round-off elsewhere is not footprint
        footprint = (start > 1e-6 * start.amax((-2, -1), keepdim=True)).to(diff.dtype)
        diff, amplitude = diff * footprint, amplitude * footprint
    return (diff.flatten(2).sum(-1) / amplitude.flatten(2).sum(-1)).cpu().numpy()


def accuracy_vs_mask(model, images: torch.Tensor, labels: torch.Tensor, sizes) -> dict[int, float]:
    """Test accuracy (%) with centred masks of each size (0 = intact)."""
    return {int(n): evaluate(model, mask_center(images, n), labels)["accuracy"] for n in sizes}


def contrast_sweep(model, images: torch.Tensor, labels: torch.Tensor, contrasts, rescaled_blocks: int = 1) -> list[dict]:
    """Accuracy and NFE per block for inputs ``c * images``, naive and time-rescaled."""
    rows = []
    for c in contrasts:
        scaled = c * images
        naive = evaluate(model, scaled, labels)
        robust = evaluate(model, scaled, labels, contrast=c, rescaled_blocks=rescaled_blocks)
        rows.append({"contrast": float(c), "naive": naive, "rescaled": robust})
    return rows


def srf_layers(model) -> dict[str, SRFConv2d]:
    """The SRF layers of a network by module name, input to output."""
    return {name: m for name, m in model.named_modules() if isinstance(m, SRFConv2d)}


@torch.no_grad()
def learned_scales(model, t: float = 1.0) -> dict[str, float]:
    """Scale (px) of every SRF layer: its shared sigma, the geometric mean of per-filter scales,
    or sigma at depth-time ``t`` for meta-parametrised layers."""
    return {name: float(layer.sigma(t if layer.coefficients.time_dependent else None).log().mean().exp())
            for name, layer in srf_layers(model).items()}


@torch.no_grad()
def scale_distribution(model) -> dict[str, dict]:
    """Per ODE block: the per-filter scales sigma^ji, their skewness and a log-normal fit."""
    out = {}
    for name, block in model.named_modules():
        if not isinstance(block, ODEBlock):
            continue
        sigmas = np.concatenate([layer.sigma().cpu().numpy().ravel() for layer in srf_layers(block).values()])
        shape, _, scale = stats.lognorm.fit(sigmas, floc=0.0)
        ks = stats.kstest(sigmas, "lognorm", args=(shape, 0.0, scale))
        out[name] = {"sigmas": sigmas.tolist(), "skewness": float(stats.skew(sigmas)),
                     "lognormal_shape": float(shape), "lognormal_median": float(scale),
                     "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue)}
    return out
