"""CordsNet training protocol (paper Sec. 3, eq. 4) and its reduced form for linear models.

Full protocol, in Euler steps of ``dt`` (2 ms): ``spontaneous_steps`` without input (100), the
image for ``image_steps`` (100), nothing for ``return_steps`` (100). The loss is::

    sum_k w_k CE(logits(t_k), y) / K  +  lambda * mean_{last P return steps, areas} (r - r_spont)^2

over the last ``K = ce_steps`` (30) image steps with ``w = logspace(-3, 0, K)``, ``P =
penalty_steps`` (10) and ``lambda = spontaneous_weight`` (1e-3). The spontaneous phase is not
simulated per image: every image starts from the model's spontaneous state, the fixed point that
the 100 blank steps approach, computed once per weight update (no gradient flows through it, as
in the authors' code). The reduced loss (linear stage) presents the image from zero rates for
``image_steps`` and keeps only the weighted cross-entropy.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize
from torch.utils.checkpoint import checkpoint

from ...dynamics import Schedule
from ...errors import DivergenceError
from .network import CordsNet


@dataclass(frozen=True)
class Protocol:
    """Protocol lengths (steps of dt) and loss coefficients; see the module docstring."""

    spontaneous_steps: int = 100
    image_steps: int = 100
    return_steps: int = 100
    ce_steps: int = 30
    ce_log10_first: float = -3.0
    ce_log10_last: float = 0.0
    penalty_steps: int = 10
    spontaneous_weight: float = 1e-3
    checkpoint_segment: int = 0

    def __post_init__(self):
        if not 0 < self.ce_steps <= self.image_steps:
            raise ValueError(f"ce_steps must be in 1..image_steps ({self.image_steps}), got {self.ce_steps}")
        if not 0 <= self.penalty_steps <= self.return_steps:
            raise ValueError(f"penalty_steps must be in 0..return_steps ({self.return_steps}), got {self.penalty_steps}")
        if self.spontaneous_steps < 1 or self.spontaneous_weight < 0 or self.checkpoint_segment < 0:
            raise ValueError("spontaneous_steps must be >= 1, spontaneous_weight and checkpoint_segment >= 0")

    def ce_weights(self) -> torch.Tensor:
        """Weights of the cross-entropy at the last ``ce_steps`` image steps (log-spaced)."""
        return torch.logspace(self.ce_log10_first, self.ce_log10_last, self.ce_steps)

    def schedule(self, dt: float) -> Schedule:
        """The protocol as a :class:`Schedule` (ms) for ``record`` and the experiments API."""
        parts = [("spontaneous", self.spontaneous_steps), ("image", self.image_steps), ("return", self.return_steps)]
        return Schedule.parse(",".join(f"{name}:{n * dt:g}" for name, n in parts if n))


def _check(model: CordsNet, state, step: int, phase: str) -> None:
    for area, value in state.items():
        if not torch.isfinite(value).all():
            raise DivergenceError(
                f"CordsNet-R{model.config.depth} diverged during training: area {area!r} holds "
                f"NaN/Inf after {phase} step {step}; lower the learning rate or clip gradients"
            )


def _advance(model: CordsNet, state, drive, first: int, n: int, observe, phase: str, check_every: int):
    """Steps ``first .. first + n - 1`` of a phase: ``(state, [observe(k, state) if not None])``."""
    seen = []
    for k in range(first, first + n):
        state = model.step(state, drive)
        if check_every and (k + 1) % check_every == 0:
            _check(model, state, k + 1, phase)
        value = observe(k, state)
        if value is not None:
            seen.append(value)
    return state, seen


def run_phase(model: CordsNet, state, drive, steps: int, observe, phase: str, segment: int = 0,
              check_every: int = 10):
    """Integrate one phase; with ``segment`` > 0 only every ``segment``-th state is kept for the
    backward pass and the steps in between are recomputed (gradient checkpointing)."""
    if not segment:
        return _advance(model, state, drive, 0, steps, observe, phase, check_every)
    areas, seen = model.areas, []
    for first in range(0, steps, segment):
        n, kind = min(segment, steps - first), type(state)

        def piece(*tensors, first=first, n=n, kind=kind):
            new, values = _advance(model, kind(zip(areas, tensors)), drive, first, n, observe, phase, check_every)
            return (*(new[a] for a in areas), *values)

        out = checkpoint(piece, *(state[a] for a in areas), use_reentrant=False)
        state, seen = model.next_state_type(state)(zip(areas, out[:len(areas)])), seen + list(out[len(areas):])
    return state, seen


def present(model: CordsNet, images: torch.Tensor, protocol: Protocol, from_rest: bool,
            check_every: int = 10) -> tuple[list[torch.Tensor], dict, dict]:
    """Run the image epoch: ``(logits of the last ce_steps steps, final state, start state)``."""
    drive = model.encode(images)
    start = model.zero_state(images.shape[0]) if from_rest else model.initial_state(images.shape[0])
    first_scored = protocol.image_steps - protocol.ce_steps
    state, logits = run_phase(model, start, drive, protocol.image_steps,
                              lambda k, st: model.readout(st) if k >= first_scored else None,
                              "image", protocol.checkpoint_segment, check_every)
    return logits, state, start


def weighted_ce(logits: list[torch.Tensor], targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean over steps of ``w_k * CE_k``; ``targets``: class indices or probabilities (mixing)."""
    losses = torch.stack([F.cross_entropy(z, targets) for z in logits])
    return (losses * weights.to(losses)).mean()


def _hard(targets: torch.Tensor) -> torch.Tensor:
    return targets.argmax(1) if targets.ndim == 2 else targets


def return_penalty(model: CordsNet, state, spont, protocol: Protocol, check_every: int = 10):
    """Mean squared distance to the spontaneous state over the last return steps, and the state."""
    first_scored = protocol.return_steps - protocol.penalty_steps

    def distance(k, st):
        if k < first_scored:
            return None
        return sum(((st[a] - spont[a]) ** 2).mean() for a in model.areas) / len(model.areas)

    state, distances = run_phase(model, state, None, protocol.return_steps, distance, "return",
                                 protocol.checkpoint_segment, check_every)
    penalty = torch.stack(distances).sum() if distances else state[model.areas[0]].new_zeros(())
    return penalty / max(protocol.penalty_steps, 1), state


def _kernels_once(protocol: Protocol):
    """Effective kernels computed once per batch (not with checkpointing, which recomputes steps)."""
    return contextlib.nullcontext() if protocol.checkpoint_segment else parametrize.cached()


def protocol_loss(model: CordsNet, images: torch.Tensor, targets: torch.Tensor,
                  protocol: Protocol = Protocol()) -> tuple[torch.Tensor, dict]:
    """Full loss (eq. 4) of one batch: ``(loss, {'ce', 'penalty', 'acc'})``.

    Effective (weight-normalised) kernels are computed once per batch, not once per step.
    ``protocol.checkpoint_segment`` trades memory for one extra forward pass.
    """
    model.spontaneous_state()  # outside the cache: computed without grad, it must not fill it
    with _kernels_once(protocol):
        logits, state, spont = present(model, images, protocol, from_rest=False)
        penalty, _ = return_penalty(model, state, spont, protocol)
    ce = weighted_ce(logits, targets, protocol.ce_weights())
    acc = (logits[-1].argmax(1) == _hard(targets)).float().mean()
    loss = ce + protocol.spontaneous_weight * penalty
    return loss, {"ce": float(ce.detach()), "penalty": float(penalty.detach()), "acc": float(acc)}


def reduced_loss(model: CordsNet, images: torch.Tensor, targets: torch.Tensor,
                 protocol: Protocol = Protocol()) -> tuple[torch.Tensor, dict]:
    """Linear-stage loss: image from zero rates, weighted CE only: ``(loss, {'ce', 'acc'})``."""
    with _kernels_once(protocol):
        logits, _, _ = present(model, images, protocol, from_rest=True)
    ce = weighted_ce(logits, targets, protocol.ce_weights())
    acc = (logits[-1].argmax(1) == _hard(targets)).float().mean()
    return ce, {"ce": float(ce.detach()), "acc": float(acc)}


@torch.no_grad()
def evaluate(model: CordsNet, images: torch.Tensor, labels: torch.Tensor,
             protocol: Protocol = Protocol(), batch_size: int = 256, from_rest: bool = False) -> dict:
    """Accuracy and return to spontaneous activity under the protocol (no grad).

    Returns ``acc`` (last image step), ``acc_window`` (mean over the scored window),
    ``return_rel`` (largest over areas of ``||r_end - r_spont|| / ||r_spont||`` at the end of
    the return epoch) and ``return_rel_evoked`` (same distance relative to the evoked change
    ``||r_image_end - r_spont||``). ``from_rest`` uses the reduced protocol (no return epoch).
    """
    model.eval()
    device = model.bias[0].device  # batches move to the model's device
    correct = window = 0.0
    dist = {a: torch.zeros(3) for a in model.areas}
    with parametrize.cached():  # weights are fixed: effective kernels computed once
        for start in range(0, images.shape[0], batch_size):
            x, y = images[start:start + batch_size].to(device), labels[start:start + batch_size].to(device)
            logits, state, spont = present(model, x, protocol, from_rest)
            correct += float((logits[-1].argmax(1) == y).sum())
            window += float(sum((z.argmax(1) == y).float().sum() for z in logits)) / len(logits)
            if from_rest:
                continue
            evoked = state
            _, state = return_penalty(model, state, spont, protocol)
            for a in model.areas:
                dist[a] += torch.stack([((state[a] - spont[a]) ** 2).sum(), (spont[a] ** 2).sum(),
                                        ((evoked[a] - spont[a]) ** 2).sum()]).cpu()
    n = images.shape[0]
    out = {"acc": correct / n, "acc_window": window / n}
    if not from_rest:
        out["return_rel"] = max(float((d[0] / d[1].clamp_min(1e-30)).sqrt()) for d in dist.values())
        out["return_rel_evoked"] = max(float((d[0] / d[2].clamp_min(1e-30)).sqrt()) for d in dist.values())
    return out
