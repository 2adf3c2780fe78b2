"""Indices of iterative convergence (Lippl, Peters & Kriegeskorte 2024).

A model is seen as stages of iterated steps (residual blocks of a ResNet stage, Euler steps of a
recurrent network, depth-time slices of an ODE block). For every stage with T steps three
perturbations are read out through the rest of the (unchanged) network, and their error rates
``e`` are compared with the intact network's error ``e_T`` and the chance error ``e_c``:

* **Convergence Index** (early read-out): stop the stage after t = 1..T-1 steps::

      CI = 1 - mean_t (e_early(t) - e_T) / (e_c - e_T)

  1 when every early read-out is already as good as the final one, 0 when all are at chance.
* **Recurrence Index** (dropping one step): remove step t = 1..T-1 and compare with removing the
  last step T::

      RI = 1 - mean_t (e_drop(t) - e_drop(T)) / (e_c - e_drop(T))

  1 when dropping any step costs the same as dropping the last (a recurrent algorithm), 0 when
  dropping any earlier step leaves the network at chance.
* **Divergence Index** (repeating the last step k = 1..K more times, K = 16 in the paper)::

      DI = mean_k (e_extra(k) - e_T) / (e_c - e_T)

  0 when extra iterations change nothing, 1 when they bring the network to chance.

The areas under the curves are unit-spaced sums over steps, i.e. the means above. Indices are
NaN when the intact network (or the one without its last step) is at or below chance.

A model exposes its stages through :class:`IterativeModel`: ``stage_lengths`` and
``run(images, stage, sequence)``, the logits when stage ``stage`` executes its steps in the
order ``sequence`` (0-based) and every other stage runs normally.
:class:`~neurovision.families.recurrent.recurrent_resnet.RecurrentResNet` implements it directly;
:class:`SteppedIterative` adapts any :class:`~neurovision.dynamics.SteppedModel` with a
``readout`` (CordsNet, per time step); :class:`DepthTimeIterative` adapts the ODE blocks of
DCN / ODE-Net (per depth-time slice).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import torch

from ..errors import DataError, NeurovisionError

ErrorFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class IterativeModel(Protocol):
    """What the indices need: the number of steps per stage and perturbed forward passes."""

    stage_lengths: list[int]

    def run(self, images: torch.Tensor, stage: int, sequence: Sequence[int]) -> torch.Tensor:
        """Logits when stage ``stage`` executes steps ``sequence`` (0-based) in that order."""


def top1_error(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-sample 0/1 error of the arg-max class."""
    return (logits.argmax(-1) != labels).float()


# -- the indices on error curves ---------------------------------------------------------------
def _ratio(num: np.ndarray, den: float) -> float:
    return float(np.mean(num) / den) if den > 0 else float("nan")


def convergence_index(early: Sequence[float], chance: float) -> float:
    """CI from early read-out errors ``early[t-1]`` after t = 1..T steps (``early[-1]`` = e_T)."""
    early = np.asarray(early, dtype=float)
    if early.size < 2:
        raise DataError("the Convergence Index needs a stage of at least 2 steps")
    return 1.0 - _ratio(early[:-1] - early[-1], chance - early[-1])


def recurrence_index(dropped: Sequence[float], chance: float) -> float:
    """RI from errors ``dropped[t-1]`` with step t = 1..T removed."""
    dropped = np.asarray(dropped, dtype=float)
    if dropped.size < 2:
        raise DataError("the Recurrence Index needs a stage of at least 2 steps")
    return 1.0 - _ratio(dropped[:-1] - dropped[-1], chance - dropped[-1])


def divergence_index(extra: Sequence[float], final: float, chance: float) -> float:
    """DI from errors ``extra[k-1]`` with the last step repeated k = 1..K more times."""
    extra = np.asarray(extra, dtype=float)
    if extra.size < 1:
        raise DataError("the Divergence Index needs at least one extra step")
    return _ratio(extra - final, chance - final)


# -- perturbation sequences and error curves ---------------------------------------------------
def perturbation_sequences(length: int, extra_steps: int = 16) -> dict[str, list[list[int]]]:
    """Step orders of a stage of ``length`` steps: early read-outs, drop-outs, repeats."""
    full = list(range(length))
    return {
        "early": [full[:t] for t in range(1, length + 1)],
        "drop": [full[:t] + full[t + 1:] for t in range(length)],
        "extra": [full + [length - 1] * k for k in range(1, extra_steps + 1)],
    }


def _error(model: IterativeModel, images, labels, stage, sequence, error: ErrorFn, batch_size: int) -> float:
    total = 0.0
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            part = slice(start, start + batch_size)
            total += float(error(model.run(images[part], stage, sequence), labels[part]).sum())
    return total / images.shape[0]


def error_curves(model: IterativeModel, images: torch.Tensor, labels: torch.Tensor, extra_steps: int = 16,
                 error: ErrorFn = top1_error, batch_size: int = 250) -> list[dict[str, np.ndarray]]:
    """Error rates of every perturbation, per stage: ``[{"early", "drop", "extra"}]`` arrays."""
    if images.shape[0] != labels.shape[0] or images.shape[0] == 0:
        raise DataError(f"need as many labels as images (> 0), got {images.shape[0]} and {labels.shape[0]}")
    curves = []
    for stage, length in enumerate(model.stage_lengths):
        seqs = perturbation_sequences(length, extra_steps)
        curves.append({kind: np.array([_error(model, images, labels, stage, s, error, batch_size) for s in seq])
                       for kind, seq in seqs.items()})
    return curves


def indices_from_curves(curves: list[dict[str, np.ndarray]], chance: float) -> dict:
    """The three indices per stage and their mean over stages."""
    per_stage = []
    for c in curves:
        final = float(c["early"][-1])
        per_stage.append({
            "convergence": convergence_index(c["early"], chance),
            "recurrence": recurrence_index(c["drop"], chance),
            "divergence": divergence_index(c["extra"], final, chance),
            "final_error": final,
        })
    mean = {k: float(np.mean([s[k] for s in per_stage])) for k in ("convergence", "recurrence", "divergence")}
    return {"stages": per_stage, "mean": mean, "chance": chance}


def iterative_convergence(model: IterativeModel, images: torch.Tensor, labels: torch.Tensor,
                          chance: float | None = None, extra_steps: int = 16, error: ErrorFn = top1_error,
                          batch_size: int = 250) -> dict:
    """Convergence, Recurrence and Divergence indices of every stage of ``model`` on a data set.

    ``chance``: error of a chance-level read-out (default 1 - 1/classes from the logits).
    Returns ``{"stages": [{convergence, recurrence, divergence, final_error}], "mean": {...},
    "chance": float, "curves": [{"early", "drop", "extra"}]}``.
    """
    if hasattr(model, "eval"):
        model.eval()
    curves = error_curves(model, images, labels, extra_steps, error, batch_size)
    if chance is None:
        with torch.no_grad():
            classes = model.run(images[:1], 0, list(range(model.stage_lengths[0]))).shape[-1]
        chance = 1.0 - 1.0 / classes
    result = indices_from_curves(curves, chance)
    result["curves"] = [{k: v.tolist() for k, v in c.items()} for c in curves]
    return result


# -- adapters ----------------------------------------------------------------------------------
class SteppedIterative:
    """One stage of ``steps`` Euler steps of a SteppedModel under a constant image drive.

    The state starts at ``model.initial_state`` (e.g. CordsNet's spontaneous state); logits come
    from ``model.readout(state)``. Dropping step t leaves the state unchanged at that step.
    """

    def __init__(self, model, steps: int):
        if not hasattr(model, "readout"):
            raise NeurovisionError(f"{type(model).__name__} has no readout(state) -> logits to score steps with")
        if steps < 2:
            raise NeurovisionError(f"need >= 2 steps, got {steps}")
        self.model, self.stage_lengths = model, [int(steps)]

    def eval(self):
        self.model.eval()
        return self

    def run(self, images, stage, sequence):
        drive = self.model.encode(images)
        state = self.model.initial_state(images.shape[0])
        for _ in sequence:
            state = self.model.step(state, drive)
        return self.model.readout(state)


class DepthTimeIterative:
    """The ODE blocks of a DCN / ODE-Net, each cut into ``slices`` equal depth-time slices.

    Step k of block b integrates the block's ODE over depth-time ``[k T/n, (k+1) T/n]`` from
    the current state; repeating the last step integrates over the last slice again.
    """

    def __init__(self, model, slices: int = 8):
        blocks = getattr(model, "blocks", None)
        if blocks is None or not all(hasattr(b, "func") for b in blocks):
            raise NeurovisionError("DepthTimeIterative needs a model whose blocks are ODE blocks (with .func)")
        if slices < 2:
            raise NeurovisionError(f"need >= 2 slices per block, got {slices}")
        self.model, self.slices = model, int(slices)
        self.stage_lengths = [self.slices] * len(blocks)

    def eval(self):
        self.model.eval()
        return self

    def _integrate(self, block, h, sequence):
        import torchdiffeq

        width = block.T / self.slices
        options = {"step_size": block.T / block.steps} if getattr(block, "steps", None) else None
        for k in sequence:
            grid = torch.tensor([k * width, (k + 1) * width], dtype=h.dtype, device=h.device)
            h = torchdiffeq.odeint(block.func, h, grid, rtol=block.rtol, atol=block.atol, method=block.method,
                                   options=options)[-1]
        return h

    def run(self, images, stage, sequence):
        m, h = self.model, images
        for b, block in enumerate(m.blocks):
            h = m.block_input(h, b)
            h = self._integrate(block, h, sequence) if b == stage else block(h)
        return m.head(h)
