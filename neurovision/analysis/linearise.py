"""Linearised dynamics of one area of a stepped model: its Jacobian as an operator, and the
leading eigenvalues of an operator (dense when small, Arnoldi otherwise)."""
from __future__ import annotations

import numpy as np
import torch

from ..dynamics import SteppedModel
from ..errors import ShapeError
from .maps import StepMap, jacobian_operator
from .operators import Operator
from .spectra import arnoldi_eigs, dense_eigvals

#: operators up to this many units are decomposed densely
DENSE_MAX_UNITS = 1024


def area_jacobian(model: SteppedModel, state: dict, stimulus: torch.Tensor | None, area: str) -> Operator:
    """Continuous-time Jacobian ``(dF/dr_area - I) / dt`` (1/ms) of ``area`` at ``state``.

    ``F`` is one step of ``model`` with ``stimulus`` (one image (1, C, H, W), or None for a
    blank screen) on screen, restricted to ``area``: the other areas stay at their values in
    ``state`` (batch-1 tensors).
    """
    model.check_area(area)
    if state[area].shape[0] != 1:
        raise ShapeError(f"area_jacobian linearises one state; got a batch of {state[area].shape[0]}")
    fmap = StepMap(model, stimulus, keys=[area], context=state)
    return jacobian_operator(fmap, fmap.flatten(state)[0], continuous=True)


def leading_eigenvalues(op: Operator, k: int = 20, seed: int = 0) -> np.ndarray:
    """All eigenvalues of small operators (n <= DENSE_MAX_UNITS), else the ``k`` of largest real
    part by Arnoldi iteration (relative residual 1e-4); sorted by decreasing real part."""
    if op.n <= DENSE_MAX_UNITS:
        values = dense_eigvals(op, max_n=DENSE_MAX_UNITS)
    else:
        found = arnoldi_eigs(op, k=min(k, op.n), which="LR", krylov_dim=max(3 * k, 60), tol=1e-4,
                             max_restarts=100, seed=seed)
        values = found.eigenvalues
    return values[np.argsort(-values.real, kind="stable")]
