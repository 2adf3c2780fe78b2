"""The CordsNet initialisation method (paper Sec. 3, Fig. 2B) as one function per step.

1. :func:`train_cnn` - the equivalent feed-forward CNN with batch norm;
2. :func:`fold` - batch norm folded into the convolutions; a linear CordsNet inherits the
   input, skip and read-out weights;
3. :func:`fit_steady_state` - per area, the recurrent kernel ``W`` and bias ``b`` are fitted so
   that the linear steady state ``(I - W)^-1 (W_in h + b)``, approximated by ``n`` fixed-point
   iterations, matches the CNN's pre-activation, with a contraction penalty on ``W^n (W_in h + b)``
   that keeps the spectral radius below 1;
4. :func:`train_linear` - the linear model end to end with the reduced loss;
5. :func:`anneal` - PReLU slope lowered from 1 to 0 in levels, full loss, fresh optimizer
   per level (as in the authors' code);
6. :func:`finetune` - the ReLU model with the full loss (also the direct-training control
   when started from a random initialisation).

Every training step runs inside :func:`neurovision.training.loop.fit` (seeded batches, atomic
checkpoints, exact resume, NaN policy, gradient clipping). Divergent dynamics raise
:class:`~neurovision.errors.DivergenceError` naming the area and step under ``nan_policy='stop'``;
under ``'skip'``/``'reduce-lr'`` the batch is dropped by the loop.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from ...errors import DivergenceError
from .network import CordsNet
from .cnn import CordsNetCNN, FoldedCNN, linear_cordsnet
from .augment import Augment
from .protocol import Protocol, protocol_loss, reduced_loss
from ...training.loop import TrainConfig, TrainResult, fit


def make_loss(objective: Callable, nan_policy: str, **kwargs) -> Callable:
    """``loss(model, (images, targets))`` for the loop: ``objective`` with the NaN policy."""

    def loss(model, batch):
        images, targets = batch
        try:
            return objective(model, images, targets, **kwargs)
        except DivergenceError:
            if nan_policy == "stop":
                raise
            return torch.tensor(math.nan), {}

    return loss


def batch_transform(augment: Augment | None) -> Callable | None:
    """``augment`` as the loop's ``transform`` of a whole ``(images, labels)`` batch: applied on
    the CPU before the batch is sliced across ranks and moved to the device."""
    return None if augment is None else (lambda batch: augment(*batch))


def _classify(model, images, targets):
    logits = model(images)
    hard = targets.argmax(1) if targets.ndim == 2 else targets
    return F.cross_entropy(logits, targets), {"acc": float((logits.argmax(1) == hard).float().mean())}


def train_cnn(cnn: CordsNetCNN, data, config: TrainConfig, augment: Augment | None = None,
              checkpoint: Path | None = None, **fit_kw) -> TrainResult:
    """Step 1: cross-entropy training of the feed-forward CNN."""
    return fit(cnn, make_loss(_classify, config.nan_policy), data, config, checkpoint=checkpoint,
               transform=batch_transform(augment), **fit_kw)


def fold(cnn: CordsNetCNN, seed: int = 0) -> tuple[FoldedCNN, CordsNet]:
    """Step 2: the folded CNN (targets) and the linear CordsNet initialised from it."""
    cnn.eval()
    folded = FoldedCNN(cnn)
    return folded, linear_cordsnet(folded, seed=seed)


def neumann_steady_state(model: CordsNet, j: int, drive: torch.Tensor, iterations: int):
    """``(r, W^n c)``: ``n`` iterations of ``r <- W r + c`` from ``r = c`` (``c = drive``)."""
    conv = model.rec[j]
    r, power = drive, drive
    for _ in range(iterations):
        r = conv(r) + drive
        power = conv(power)
    return r, power


def steady_state_loss(model: CordsNet, images, targets, folded: FoldedCNN, iterations: int = 3,
                      contraction_weight: float = 10.0):
    """Mean over areas of ``MSE(steady state, CNN pre-activation) + lambda * mean((W^n c)^2)``."""
    inputs, pre = folded.areas(images)
    errors, powers = [], []
    for j in range(model.config.depth):
        r, power = neumann_steady_state(model, j, inputs[j] + model.bias[j], iterations)
        errors.append(((r - pre[j]) ** 2).mean())
        powers.append((power ** 2).mean())
    error, penalty = torch.stack(errors).mean(), torch.stack(powers).mean()
    return error + contraction_weight * penalty, {"mse": float(error.detach()), "contraction": float(penalty.detach())}


def fit_steady_state(model: CordsNet, folded: FoldedCNN, data, config: TrainConfig, iterations: int = 3,
                     contraction_weight: float = 10.0, checkpoint: Path | None = None, **fit_kw) -> TrainResult:
    """Step 3: fit recurrent kernels and biases (only) to the CNN's pre-activations."""
    params = [p for name, p in model.named_parameters() if name.startswith(("rec.", "bias."))]
    loss = make_loss(steady_state_loss, config.nan_policy, folded=folded, iterations=iterations,
                     contraction_weight=contraction_weight)
    return fit(model, loss, data, config, params=params, checkpoint=checkpoint, **fit_kw)


def train_linear(model: CordsNet, data, config: TrainConfig, protocol: Protocol = Protocol(),
                 augment: Augment | None = None, checkpoint: Path | None = None, **fit_kw) -> TrainResult:
    """Step 4: the linear model end to end, image from zero rates, weighted CE (reduced loss)."""
    model.set_activation("prelu", 1.0)
    return fit(model, make_loss(reduced_loss, config.nan_policy, protocol=protocol), data, config,
               checkpoint=checkpoint, transform=batch_transform(augment), **fit_kw)


def anneal_slopes(levels: int) -> list[float]:
    """PReLU slopes of the annealing levels: ``1 - (l + 1) / levels`` (last level: 0 = ReLU)."""
    if levels < 1:
        raise ValueError(f"annealing needs at least one level, got {levels}")
    return [1.0 - (level + 1) / levels for level in range(levels)]


#: feed-forward convolutions a CordsNet inherits from its CNN (stem, stem skip, input and skip)
FEED_FORWARD = ("stem.", "stem_skip.", "inp.", "skip.")


def trained_parameters(model: CordsNet, freeze_features: bool = False) -> list[torch.nn.Parameter]:
    """Parameters of a dynamic stage: all, or with ``freeze_features`` all but the kernel
    directions (weight norm's ``original1``) of the feed-forward convolutions, whose per-channel
    gains, the recurrent kernels, biases and read-out still train.

    Adam moves every coordinate by about the learning rate per step whatever its scale; the
    folded feed-forward kernels are small (mean |w| 0.01-0.04 for the CIFAR-10 R2), so a few
    hundred steps at 1e-4-1e-3 perturb the CNN's features by 10 % or more.
    """
    return [p for name, p in model.named_parameters()
            if not (freeze_features and name.startswith(FEED_FORWARD) and name.endswith("original1"))]


def anneal(model: CordsNet, data, config: TrainConfig, levels: int = 20, protocol: Protocol = Protocol(),
           augment: Augment | None = None, checkpoint_dir: Path | None = None, freeze_features: bool = False,
           **fit_kw) -> list[TrainResult]:
    """Step 5: PReLU slope from 1 to 0 over ``levels`` levels, full loss, fresh optimizer each.

    The slope is a buffer, not trained. Level ``l`` shuffles the data with seed ``config.seed +
    l`` (like one epoch per level in the authors' schedule), so short levels see new images
    instead of the same first batches again. Each level resumes from its own checkpoint
    ``anneal-<level>.progress.pt`` in ``checkpoint_dir`` and logs to ``anneal-<level>.log.jsonl``
    beside ``log`` (a level's fresh start rewrites its own log only). Ends with the ReLU
    activation. ``freeze_features``: see :func:`trained_parameters`.
    """
    results = []
    loss = make_loss(protocol_loss, config.nan_policy, protocol=protocol)
    params = trained_parameters(model, freeze_features)
    log = fit_kw.pop("log", None)
    for level, slope in enumerate(anneal_slopes(levels)):
        model.set_activation("prelu", slope)
        path = None if checkpoint_dir is None else Path(checkpoint_dir) / f"anneal-{level:02d}.progress.pt"
        level_log = None if log is None else Path(log).with_name(f"anneal-{level:02d}.log.jsonl")
        results.append(fit(model, loss, data, replace(config, seed=config.seed + level), params=params,
                           checkpoint=path, log=level_log, transform=batch_transform(augment), **fit_kw))
    model.set_activation("relu", 0.0)
    return results


def finetune(model: CordsNet, data, config: TrainConfig, protocol: Protocol = Protocol(),
             augment: Augment | None = None, checkpoint: Path | None = None, freeze_features: bool = False,
             **fit_kw) -> TrainResult:
    """Step 6 (and the direct-training control): the ReLU model with the full loss (eq. 4);
    ``freeze_features``: see :func:`trained_parameters`."""
    model.set_activation("relu", 0.0)
    return fit(model, make_loss(protocol_loss, config.nan_policy, protocol=protocol), data, config,
               params=trained_parameters(model, freeze_features), checkpoint=checkpoint,
               transform=batch_transform(augment), **fit_kw)
