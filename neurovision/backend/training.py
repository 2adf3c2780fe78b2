"""Supervised training of a back-end on a task: masked cross-entropy, Adam, resumable runs.

Batches are ``(inputs (B, T, n_in), targets (B, T) actions, mask (B, T) weights)``: fresh
trials from a seeded environment (:class:`~neurovision.backend.trials.TrialSampler`) or a fixed
pool of trials as tensors (e.g. front-end features read from the cache). Training runs inside
the generic loop :func:`neurovision.training.loop.fit` (checkpoints, resume, NaN policy).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import ShapeError
from ..training.distributed import World
from ..training.loop import TrainConfig, TrainResult, fit
from .trials import TrialSampler, Trials


@contextlib.contextmanager
def torch_threads(n: int = 1):
    """Run the body with ``n`` torch CPU threads (small recurrent networks are fastest on one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def task_loss(model, batch) -> tuple[torch.Tensor, dict]:
    """Cross-entropy of the per-step action logits, weighted by the mask and normalised by it.

    Metric: ``response_accuracy``, argmax = target on the steps whose target is a choice (not
    fixation).
    """
    inputs, targets, mask = batch
    out = model(inputs)
    logits = out.logits
    if logits.shape[:2] != targets.shape or targets.shape != mask.shape:
        raise ShapeError(f"logits {tuple(logits.shape)}, targets {tuple(targets.shape)} and mask "
                         f"{tuple(mask.shape)} must share (batch, time)")
    ce = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none").view_as(mask)
    loss = (ce * mask).sum() / mask.sum().clamp_min(1e-8)
    with torch.no_grad():
        choice_steps = (targets > 0) & (mask > 0)
        hits = (logits.argmax(-1) == targets)[choice_steps].float()
        accuracy = float(hits.mean()) if hits.numel() else float("nan")
    return loss, {"response_accuracy": accuracy}


def train(backend, data, *, steps: int = 2000, batch_size: int = 32, lr: float = 3e-3,
          grad_clip: float | None = 1.0, fixation_weight: float = 0.1, seed: int = 0,
          checkpoint: str | Path | None = None, log: str | Path | None = None,
          checkpoint_every: int = 100, nan_policy: str = "stop", model_id: str = "backend",
          lr_decay_at: tuple[float, ...] = (0.6, 0.85), lr_gamma: float = 0.3,
          evaluate=None, device: str | torch.device = "cpu", progress: bool = True,
          world: World = World()) -> TrainResult:
    """Train ``backend`` for ``steps`` Adam steps on ``data`` and return the loop's result.

    ``data`` is a task environment (fresh seeded trials every batch, loss weight
    ``fixation_weight`` outside the response periods) or :class:`Trials` / a tuple of tensors
    ``(inputs, targets, mask)`` (a fixed pool, reshuffled every epoch). A run given the same
    ``checkpoint`` path resumes where it stopped. The learning rate is multiplied by
    ``lr_gamma`` after each fraction ``lr_decay_at`` of the steps. ``evaluate(model) -> dict``
    runs after every epoch (``checkpoint_every`` steps for environments). ``world``: the
    ``torchrun`` ranks over which each batch of ``batch_size`` (global) trials is split.
    """
    if isinstance(data, Trials):
        data = data.tensors()
    if isinstance(data, tuple):
        per_epoch = data[0].shape[0] // batch_size
    else:
        data = TrialSampler(data, fixation_weight)
        per_epoch = min(checkpoint_every or steps, steps)
    epochs = max(1, -(-steps // max(per_epoch, 1)))
    config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, grad_clip=grad_clip,
                         steps_per_epoch=None if isinstance(data, tuple) else per_epoch,
                         lr_milestones=tuple(int(round(f * steps / max(per_epoch, 1))) for f in lr_decay_at),
                         lr_gamma=lr_gamma, nan_policy=nan_policy, checkpoint_every=checkpoint_every,
                         max_steps=steps, seed=seed)
    return fit(backend, task_loss, data, config, checkpoint=checkpoint, model_id=model_id, log=log,
               evaluate=evaluate, device=device, progress=progress, world=world)
