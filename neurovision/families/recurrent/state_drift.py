"""Do recurrent states stay at their fixed point beyond the trained number of steps?

The state-space analysis of Linsley et al. (2020, supplement 3.2): (i) hidden states for steps
t = 1..T, (ii) global average pooling over space (C-dimensional vectors), (iii) PCA fitted on the
task-optimised steps t <= N, (iv) every state projected on those components. Drift is the
distance between each image's pooled state at t = N and at t = T, in units of the spread of
the states at t <= N; two-sample Kolmogorov-Smirnov tests compare drift between models and
the state distribution at t = N with the one at t = T within a model.

Works on any model with ``states(images, steps) -> list of (B, ...) states``,
``readout(state) -> logits`` and ``cell.hidden`` (e.g.
:class:`~neurovision.families.recurrent.recurrent_classifier.RecurrentClassifier`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from sklearn.decomposition import PCA

from ...errors import DataError


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def rollout(model, images: torch.Tensor, max_steps: int, batch_size: int = 100):
    """Accuracy inputs and pooled states of every step 1..``max_steps``.

    Returns ``(logits (T, N, K), pooled (T, N, C))`` as tensors (no graph).
    """
    from .recurrent_classifier import pooled

    logits, pools = [], []
    model.eval()
    with torch.no_grad():
        for part in _batches(images.shape[0], batch_size):
            states = model.states(images[part], max_steps)
            logits.append(torch.stack([model.readout(s) for s in states]))
            pools.append(pooled(states, model.cell))
    return torch.cat(logits, 1), torch.cat(pools, 1)


def accuracy_by_step(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Accuracy (T,) of the readout at every step from logits (T, N, K)."""
    return (logits.argmax(-1) == labels[None]).float().mean(1).numpy()


@dataclass
class StateSpace:
    """PCA of pooled states fitted on steps <= ``fit_steps``; ``projected`` (T, N, components)."""

    pca: PCA
    projected: np.ndarray
    fit_steps: int
    spread: float


def state_space(pooled: torch.Tensor, fit_steps: int, components: int = 2) -> StateSpace:
    """Fit the PCA on states at steps 1..``fit_steps`` and project all T steps."""
    states = np.asarray(pooled, dtype=np.float64)
    if states.ndim != 3:
        raise DataError(f"pooled states must be (T, N, C), got shape {states.shape}")
    if not 1 <= fit_steps <= states.shape[0]:
        raise DataError(f"fit_steps must lie in 1..{states.shape[0]}, got {fit_steps}")
    fit = states[:fit_steps].reshape(-1, states.shape[-1])
    pca = PCA(n_components=min(components, fit.shape[1], fit.shape[0])).fit(fit)
    spread = float(np.sqrt(((fit - fit.mean(0)) ** 2).sum(1).mean()))
    projected = pca.transform(states.reshape(-1, states.shape[-1])).reshape(*states.shape[:2], -1)
    return StateSpace(pca, projected, fit_steps, spread)


def drift(pooled: torch.Tensor, n: int, t: int) -> np.ndarray:
    """Per-image distance between pooled states at steps ``n`` and ``t`` (1-based), divided by
    the RMS spread of the states at steps <= ``n``."""
    states = np.asarray(pooled, dtype=np.float64)
    if not (1 <= n <= states.shape[0] and 1 <= t <= states.shape[0]):
        raise DataError(f"steps {n} and {t} must lie in 1..{states.shape[0]}")
    fit = states[:n].reshape(-1, states.shape[-1])
    spread = np.sqrt(((fit - fit.mean(0)) ** 2).sum(1).mean())
    return np.linalg.norm(states[t - 1] - states[n - 1], axis=-1) / max(spread, 1e-12)


def ks_drift(larger: np.ndarray, smaller: np.ndarray) -> dict:
    """Two-sample KS tests of drift samples: two-sided, and one-sided that ``larger`` drifts more."""
    two = stats.ks_2samp(larger, smaller)
    one = stats.ks_2samp(larger, smaller, alternative="less")
    return {"ks_statistic": float(two.statistic), "p_two_sided": float(two.pvalue),
            "p_first_larger": float(one.pvalue)}


def ks_stay_put(projected: np.ndarray, n: int, t: int) -> dict:
    """KS test of the first principal component's distribution at step ``n`` against step ``t``."""
    test = stats.ks_2samp(projected[n - 1, :, 0], projected[t - 1, :, 0])
    return {"ks_statistic": float(test.statistic), "p_value": float(test.pvalue)}
