"""Training objective of recurrent classifiers: cross-entropy by BPTT, RBP, C-BPTT or C-RBP.

:class:`RecurrentObjective` is a ``loss_fn(model, batch) -> (loss, metrics)`` for
:func:`neurovision.training.loop.fit` over ``(images, labels)`` batches. The model must offer
``unroll(images, steps, method, terms)`` and ``readout(state)`` like
:class:`~neurovision.families.recurrent.recurrent_classifier.RecurrentClassifier`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...errors import NeurovisionError
from .rbp import METHODS, lipschitz_penalty

#: named training algorithms: (gradient method, whether the Lipschitz-Constant Penalty is used)
ALGORITHMS = {"bptt": ("bptt", False), "rbp": ("rbp", False),
              "c-bptt": ("bptt", True), "c-rbp": ("rbp", True)}


@dataclass
class RecurrentObjective:
    """Cross-entropy of the readout after ``steps`` steps (+ ``lcp_weight`` x LCP).

    ``method``: "bptt" or "rbp"; ``terms``: Neumann-series terms of RBP; ``lcp_weight`` 0
    disables the penalty; ``lcp_lambda``: the contraction bound lambda of the LCP.
    """

    method: str = "bptt"
    steps: int | None = None
    terms: int = 15
    lcp_weight: float = 0.0
    lcp_lambda: float = 0.9

    def __post_init__(self):
        if self.method not in METHODS:
            raise NeurovisionError(f"unknown method {self.method!r}; choose one of {METHODS}")
        if self.lcp_weight < 0:
            raise NeurovisionError(f"lcp_weight must be >= 0, got {self.lcp_weight}")

    @classmethod
    def named(cls, algorithm: str, lcp_weight: float = 10.0, **kwargs) -> "RecurrentObjective":
        """The objective of ``algorithm`` in {bptt, rbp, c-bptt, c-rbp}."""
        if algorithm not in ALGORITHMS:
            raise NeurovisionError(f"unknown algorithm {algorithm!r}; choose one of {sorted(ALGORITHMS)}")
        method, constrained = ALGORITHMS[algorithm]
        return cls(method=method, lcp_weight=lcp_weight if constrained else 0.0, **kwargs)

    def __call__(self, model, batch):
        images, labels = batch
        out = model.unroll(images, self.steps, self.method, self.terms)
        logits = model.readout(out.state)
        loss = F.cross_entropy(logits, labels)
        metrics = {"ce": float(loss.detach()), "acc": accuracy(logits, labels)}
        if self.lcp_weight > 0:
            penalty = lipschitz_penalty(out, self.lcp_lambda)
            loss = loss + self.lcp_weight * penalty
            metrics["lcp"] = float(penalty.detach())
        return loss, metrics


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals the label."""
    return float((logits.argmax(-1) == labels).float().mean())
