"""Load the authors' released CordsNet checkpoints (github.com/wmws2/cordsnet, ``cordsnetr8.pth``).

Their state dicts name parameters ``inp_conv``, ``inp_skip``, ``area_conv.i``, ``area_area.i``,
``conv_bias.i``, ``skip_area.i`` and ``out_fc``, possibly prefixed by ``module.`` (data-parallel
training), with weight normalisation stored either as ``parametrizations.weight.original0/1``
(``g``/``v``, current PyTorch) or as ``weight_g``/``weight_v`` (older PyTorch). This module maps
them onto :class:`~neurovision.families.cordsnet.network.CordsNet` names.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping

import torch

from ...errors import CorruptFileError, ShapeError
from ...io import load_torch
from ...training.checkpoint import load_state_dict_checked
from .network import NORMALISATION, CordsNet, CordsNetConfig

#: authors' module names -> ours
RENAMES = (
    ("inp_conv.", "stem."),
    ("inp_skip.", "stem_skip."),
    ("area_conv.", "rec."),
    ("area_area.", "inp."),
    ("conv_bias.", "bias."),
    ("skip_area.", "skip."),
    ("out_fc.", "fc."),
)
_G, _V = "parametrizations.weight.original0", "parametrizations.weight.original1"
SUFFIXES = {"weight_g": _G, "weight_v": _V, "parametrizations.weight.original0": _G,
            "parametrizations.weight.original1": _V}


def _weight_norm_split(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(g, v)`` with ``g = ||w||`` per output unit, so that ``g v / ||v|| = w``."""
    norm = weight.flatten(1).norm(dim=1)
    return norm.view(-1, *([1] * (weight.ndim - 1))), weight


def convert_released(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an authors'-layout state dict to CordsNet keys (plain ``weight`` is split to g, v)."""
    if not isinstance(state, Mapping) or not state:
        raise CorruptFileError("expected a non-empty state dict (name -> tensor) in the authors' layout")
    out, foreign = {}, []
    for key, value in state.items():
        name = key[len("module."):] if key.startswith("module.") else key
        prefix = next(((theirs, ours) for theirs, ours in RENAMES if name.startswith(theirs)), None)
        if prefix is None or not isinstance(value, torch.Tensor):
            foreign.append(key)
            continue
        name = prefix[1] + name[len(prefix[0]):]
        suffix = next((s for s in SUFFIXES if name.endswith("." + s)), None)
        if suffix is not None:
            out[name[: -len(suffix)] + SUFFIXES[suffix]] = value
        elif name.endswith(".weight"):
            out[name[:-6] + _G], out[name[:-6] + _V] = _weight_norm_split(value)
        else:
            out[name] = value
    if foreign:
        shown = ", ".join(foreign[:8]) + (f" ... ({len(foreign)} in all)" if len(foreign) > 8 else "")
        raise CorruptFileError(
            f"keys not in the CordsNet layout of github.com/wmws2/cordsnet: {shown}. Expected "
            "inp_conv, inp_skip, area_conv.i, area_area.i, conv_bias.i, skip_area.i, out_fc "
            "(the final model, not an intermediate training stage)"
        )
    return out


def infer_config(state: Mapping[str, torch.Tensor], dataset: str = "imagenet") -> CordsNetConfig:
    """Architecture of a converted state dict: depth, input channels, image size, classes."""
    try:
        depth = 1 + max(int(m.group(1)) for k in state if (m := re.match(r"rec\.(\d+)\.", k)))
        in_channels = state[f"stem.{_V}"].shape[1]
        n_classes = state[f"fc.{_V}"].shape[0]
        side = state["bias.0"].shape[-1]
    except (ValueError, KeyError) as exc:
        raise CorruptFileError(f"the state dict lacks CordsNet parameters ({exc})") from None
    if dataset not in NORMALISATION:
        raise ValueError(f"dataset must be one of {sorted(NORMALISATION)} (sets mean/std), got {dataset!r}")
    mean, std = NORMALISATION[dataset]
    if len(mean) != in_channels:
        raise ShapeError(f"the checkpoint takes {in_channels}-channel images; {dataset!r} images have {len(mean)}")
    return CordsNetConfig(depth=depth, in_channels=in_channels, image_size=4 * side,
                          n_classes=n_classes, mean=mean, std=std)


def load_released(path: str | os.PathLike, depth: int | None = None, dataset: str = "imagenet") -> CordsNet:
    """Build a CordsNet from the authors' checkpoint file at ``path`` (weights only).

    ``depth`` (if given) must match the file; ``dataset`` picks the input normalisation.
    Raises :class:`CorruptFileError` for unreadable or foreign files and :class:`ShapeError`
    for a checkpoint of another variant.
    """
    state = convert_released(load_torch(path))
    config = infer_config(state, dataset)
    if depth is not None and depth != config.depth:
        raise ShapeError(f"{path} holds CordsNet-R{config.depth} weights, not CordsNet-R{depth}")
    model = CordsNet(config)
    state = dict(state, prelu_slope=model.prelu_slope.clone())
    load_state_dict_checked(model, state, source=str(path))
    return model.eval()
