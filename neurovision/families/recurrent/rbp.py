"""Recurrent back-propagation (RBP), the Lipschitz-Constant Penalty and contractor-RBP.

A recurrent cell ``h_{t+1} = F(h_t)`` (the static drive and the weights are closed over by the
``step`` callable) is run for ``steps`` iterations. Two ways give the gradient of a loss of the
final state:

* ``"bptt"``: back-propagation through time; every state stays in memory (memory grows
  linearly with ``steps``).
* ``"rbp"``: the first ``steps - 1`` iterations run without a graph; only the last step
  ``h_N = F(h_{N-1})`` is recorded. At a fixed point ``h* = F(h*)`` the implicit function
  theorem gives ``dL/dw = g^T dF/dw`` with ``g = (I - J_F^T)^{-1} dL/dh*``; the inverse is the
  Neumann series ``g = sum_k (J_F^T)^k dL/dh*`` truncated after ``terms`` vector-Jacobian
  products (Almeida 1987, Pineda 1987; Linsley et al. 2020). Memory is constant in ``steps``.

The Lipschitz-Constant Penalty ``||(1 J_{F,h*} - lambda)_+||^2`` (Linsley et al. 2020,
supplement eq. 9) costs one vector-Jacobian product; RBP + LCP is contractor-RBP (C-RBP) and
BPTT + LCP is C-BPTT.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ...errors import NeurovisionError

Step = Callable[[torch.Tensor], torch.Tensor]
METHODS = ("bptt", "rbp")


@dataclass
class Unrolled:
    """Result of :func:`unroll`.

    ``state``: h_N to compute the loss from (its backward pass implements the chosen method);
    ``last``: h_N as produced by the final call of ``F`` (graph to ``previous``);
    ``previous``: h_{N-1}, the input of that final call.
    """

    state: torch.Tensor
    last: torch.Tensor
    previous: torch.Tensor


class _NeumannBackward(torch.autograd.Function):
    """Identity on h_N whose backward replaces dL/dh_N by its Neumann-series RBP correction."""

    @staticmethod
    def forward(ctx, last, previous, terms, tol):
        ctx.save_for_backward(last, previous)
        ctx.terms, ctx.tol = terms, tol
        return last.view_as(last)

    @staticmethod
    def backward(ctx, grad):
        last, previous = ctx.saved_tensors
        total = neumann_series(last, previous, grad, ctx.terms, ctx.tol)
        return total, None, None, None


def neumann_series(last: torch.Tensor, previous: torch.Tensor, grad: torch.Tensor,
                   terms: int, tol: float = 0.0) -> torch.Tensor:
    """``sum_{k=0}^{terms} (J^T)^k grad`` with ``J = d last / d previous`` (vector-Jacobian products).

    Stops early once a term's norm falls below ``tol`` times the running sum's norm.
    """
    total, term = grad, grad
    with torch.enable_grad():
        for _ in range(terms):
            (term,) = torch.autograd.grad(last, previous, term, retain_graph=True)
            total = total + term
            if tol > 0 and term.norm() <= tol * total.norm():
                break
    return total


def unroll(step: Step, h0: torch.Tensor, steps: int, method: str = "bptt",
           terms: int = 20, tol: float = 0.0) -> Unrolled:
    """Iterate ``h <- step(h)`` ``steps`` times from ``h0``; gradients by ``method`` ("bptt"|"rbp").

    ``terms``: number of Neumann-series terms (vector-Jacobian products) RBP uses in backward.
    """
    if method not in METHODS:
        raise NeurovisionError(f"unknown training method {method!r}; choose one of {METHODS}")
    if steps < 1:
        raise NeurovisionError(f"steps must be >= 1, got {steps}")
    if terms < 0:
        raise NeurovisionError(f"terms must be >= 0, got {terms}")
    h = h0
    if method == "bptt":
        previous = h
        for _ in range(steps):
            previous, h = h, step(h)
        return Unrolled(h, h, previous)
    with torch.no_grad():
        for _ in range(steps - 1):
            h = step(h)
    previous = h.detach().requires_grad_(True)
    last = step(previous)
    if not torch.is_grad_enabled():
        return Unrolled(last, last, previous)
    return Unrolled(_NeumannBackward.apply(last, previous, terms, tol), last, previous)


def lipschitz_penalty(unrolled: Unrolled, lam: float = 0.9, reduction: str = "mean") -> torch.Tensor:
    """LCP ``(1 J_{F,h*} - lam)_+^2`` averaged (``"mean"``) or summed over state elements.

    ``1 J`` is the vector-Jacobian product of the all-ones vector with ``J = dF/dh`` at the last
    step; the penalty is zero when every column sum of ``J`` is at most ``lam``. It is built with
    ``create_graph=True`` so it can be added to the task loss.
    """
    if not 0.0 <= lam < 1.0 + 1e-12:
        raise NeurovisionError(f"LCP lambda must lie in [0, 1], got {lam}")
    if reduction not in ("mean", "sum"):
        raise NeurovisionError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    ones = torch.ones_like(unrolled.last)
    (vjp,) = torch.autograd.grad(unrolled.last, unrolled.previous, ones, create_graph=True)
    excess = (vjp - lam).clamp(min=0) ** 2
    return excess.mean() if reduction == "mean" else excess.sum()


def trajectory(step: Step, h0: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """States h_1 .. h_steps without a graph (evaluation, state-space analysis)."""
    states, h = [], h0
    with torch.no_grad():
        for _ in range(steps):
            h = step(h)
            states.append(h)
    return states
