"""Experiments on CordsNet dynamics: presenting, removing and switching images, noise robustness.

Times are in ms after the first stimulus onset, as everywhere in neurovision. Trajectories are
sampled at every Euler step (``dt`` ms) and returned as xarray DataArrays; nothing but the
current state is kept in memory while integrating.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ...dynamics import Schedule, integrate
from .network import CordsNet


def present_remove(on_ms: float = 400.0, off_ms: float = 400.0, before_ms: float = 0.0) -> Schedule:
    """Schedule of Fig. 3B (left): an image for ``on_ms`` then nothing for ``off_ms``."""
    return Schedule.presentation(before_ms, on_ms, off_ms)


def switch(first_ms: float = 400.0, second_ms: float = 400.0) -> Schedule:
    """Schedule of Fig. 3B (right): image ``first`` then image ``second`` (stimulus keys)."""
    return Schedule.parse(f"first:{first_ms:g},second:{second_ms:g}")


@torch.no_grad()
def trajectory(model: CordsNet, stimuli: torch.Tensor | Mapping[str, torch.Tensor], schedule: Schedule | str,
               areas: Sequence[str] = (), labels: torch.Tensor | None = None) -> xr.Dataset:
    """Per-step read-out and mean area activity of ``stimuli`` under ``schedule``.

    Returns a Dataset over ``presentation x time`` (ms after onset) with ``probability``
    (softmax, ``presentation x class x time``), ``predicted`` class, for each requested area
    ``<area>_mean`` (mean rate) and ``<area>_distance`` (root-mean-square distance from the
    spontaneous state) and, with ``labels``, ``correct`` (predicted == label).
    """
    schedule = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    model.eval()
    for area in areas:
        model.check_area(area)
    spont = model.spontaneous_state()
    times, probs = [], []
    series = {f"{a}_{kind}": [] for a in areas for kind in ("mean", "distance")}
    for _, t, state in integrate(model, stimuli, schedule):
        times.append(t)
        probs.append(torch.softmax(model.readout(state), dim=1).cpu())
        for area in areas:
            series[f"{area}_mean"].append(state[area].flatten(1).mean(1).cpu())
            series[f"{area}_distance"].append((state[area] - spont[area]).flatten(1).pow(2).mean(1).sqrt().cpu())
    p = torch.stack(probs, -1).numpy()
    data = {"probability": (("presentation", "class", "time"), p),
            "predicted": (("presentation", "time"), p.argmax(1))}
    data.update({name: (("presentation", "time"), torch.stack(v, -1).numpy()) for name, v in series.items()})
    if labels is not None:
        data["correct"] = (("presentation", "time"), p.argmax(1) == labels.cpu().numpy()[:, None])
    return xr.Dataset(data, coords={"time": ("time", np.asarray(times), {"units": "ms"})},
                      attrs={"schedule": str(schedule), "dt_ms": model.dt})


@torch.no_grad()
def _noisy_run(model: CordsNet, images: torch.Tensor, steps: int, input_sd: float, state_sd: float,
               generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Image epoch with fresh Gaussian noise every step: (mean squared deviation, final logits).

    The deviation is taken from a noiseless run in lockstep, over the last area and all steps.
    """
    clean_drive = model.encode(images)
    clean = noisy = model.initial_state(images.shape[0])
    last, deviation = model.areas[-1], images.new_zeros(images.shape[0])
    for _ in range(steps):
        clean = model.step(clean, clean_drive)
        if input_sd > 0:
            noise = torch.randn(images.shape, generator=generator).to(images) * input_sd
            drive = model.encode(images + noise)
        else:
            drive = clean_drive
        noisy = model.step(noisy, drive)
        if state_sd > 0:
            noisy = {a: x + state_sd * torch.randn(x.shape, generator=generator).to(x) for a, x in noisy.items()}
        deviation += ((noisy[last] - clean[last]) ** 2).flatten(1).mean(1)
    return deviation / steps, model.readout(noisy)


def noise_robustness(model: CordsNet, images: torch.Tensor, labels: torch.Tensor,
                     levels: Sequence[float] = (0.05, 0.1, 0.2, 0.4, 0.8), where: Sequence[str] = ("input", "state"),
                     image_ms: float = 200.0, batch_size: int = 100, seed: int = 0) -> pd.DataFrame:
    """Deviation and accuracy under white Gaussian noise at each level (Fig. 3C-D).

    ``where='input'``: noise of SD ``level`` (pixel units, images in [0, 1]) added to the image
    at every step; ``'state'``: noise of SD ``level`` added to every rate after every step. The
    image is shown for ``image_ms`` from the spontaneous state. Returns one row per (where,
    level) with ``deviation`` (MSE of the last area from the noiseless run, mean over steps and
    images), ``accuracy`` (read-out at the end) and ``clean_accuracy``.
    """
    steps = int(round(image_ms / model.dt))
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    rows = []
    with torch.no_grad():
        clean_hits = 0.0
        for start in range(0, images.shape[0], batch_size):
            x = images[start:start + batch_size]
            clean_hits += float((_noisy_run(model, x, steps, 0.0, 0.0, generator)[1].argmax(1).cpu()
                                 == labels[start:start + batch_size]).sum())
        for kind in where:
            if kind not in ("input", "state"):
                raise ValueError(f"noise goes on 'input' or 'state', got {kind!r}")
            for level in levels:
                dev, hits = 0.0, 0.0
                for start in range(0, images.shape[0], batch_size):
                    x, y = images[start:start + batch_size], labels[start:start + batch_size]
                    sd_in, sd_state = (level, 0.0) if kind == "input" else (0.0, level)
                    d, logits = _noisy_run(model, x, steps, sd_in, sd_state, generator)
                    dev += float(d.sum())
                    hits += float((logits.argmax(1).cpu() == y).sum())
                n = images.shape[0]
                rows.append({"where": kind, "level": level, "deviation": dev / n, "accuracy": hits / n,
                             "clean_accuracy": clean_hits / n})
    return pd.DataFrame(rows)
