"""Principal components of activity too large to hold: randomised subspace iteration over a
stream (Halko, Martinsson & Tropp 2011, Alg. 4.4 on the covariance).

The data ``X`` (samples x units) is never stored: a *source* is a zero-argument callable that
returns a fresh iterator over row chunks ``(m_i, units)`` (e.g. re-running a model on the same
stimuli). Each pass accumulates ``X^T (X Q)``, the column sums and the squared norm, which give
the centred covariance applied to ``Q`` (``units x (k + oversample)``), so memory is
``O(units * (k + oversample))`` whatever the number of samples. ``n_iter`` passes refine the
subspace; Rayleigh-Ritz on the last one gives the components and their variances.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from ..errors import DataError, ShapeError

Source = Callable[[], Iterable[torch.Tensor]]


class StreamingPCA:
    """Top ``n_components`` principal components of a stream of row chunks (see module doc).

    After :meth:`fit`: ``components_`` ``(k, units)`` (orthonormal rows), ``mean_``
    ``(units,)``, ``explained_variance_`` ``(k,)`` (population variance, /N),
    ``explained_variance_ratio_``, ``n_samples_`` and ``n_passes_``.
    """

    def __init__(self, n_components: int, oversample: int = 10, n_iter: int = 4, seed: int = 0):
        if n_components < 1 or oversample < 0 or n_iter < 1:
            raise ValueError("need n_components >= 1, oversample >= 0 and n_iter >= 1")
        self.n_components, self.oversample, self.n_iter, self.seed = n_components, oversample, n_iter, seed

    def _pass(self, source: Source, basis: torch.Tensor | None):
        """One pass: ``(X^T X Q, column sums, N, sum of squares)``; ``Q`` drawn on first sight."""
        prod = sums = None
        count, sumsq = 0, 0.0
        for chunk in source():
            x = torch.as_tensor(chunk).detach().to(torch.float64).reshape(len(chunk), -1)
            if not torch.isfinite(x).all():
                raise DataError("the activity stream contains NaN/Inf; the model diverged")
            if basis is None:
                gen = torch.Generator().manual_seed(self.seed)
                width = min(self.n_components + self.oversample, x.shape[1])
                basis, _ = torch.linalg.qr(torch.randn(x.shape[1], width, generator=gen, dtype=torch.float64))
            if x.shape[1] != basis.shape[0]:
                raise ShapeError(f"chunks have {x.shape[1]} units, earlier ones {basis.shape[0]}")
            if prod is None:
                prod, sums = torch.zeros_like(basis), torch.zeros(x.shape[1], dtype=torch.float64)
            prod += x.T @ (x @ basis)
            sums += x.sum(0)
            count += x.shape[0]
            sumsq += float((x * x).sum())
        if count < 2:
            raise DataError(f"the activity stream gave {count} samples; PCA needs at least 2")
        return basis, prod, sums, count, sumsq

    def fit(self, source: Source) -> "StreamingPCA":
        """Estimate the components from ``n_iter`` passes over ``source``."""
        basis = None
        for it in range(self.n_iter):
            basis, prod, sums, count, sumsq = self._pass(source, basis)
            cov_q = (prod - torch.outer(sums, sums @ basis) / count) / count
            if it < self.n_iter - 1:
                basis, _ = torch.linalg.qr(cov_q)
        small = basis.T @ cov_q
        lam, vec = torch.linalg.eigh(0.5 * (small + small.T))
        order = torch.argsort(lam, descending=True)[: self.n_components]
        self.components_ = (basis @ vec[:, order]).T.contiguous()
        self.mean_ = sums / count
        self.explained_variance_ = lam[order].clamp_min(0.0).numpy()
        total = sumsq / count - float(self.mean_ @ self.mean_)
        self.total_variance_ = max(total, 0.0)
        self.explained_variance_ratio_ = self.explained_variance_ / max(total, 1e-300)
        self.n_samples_, self.n_passes_ = count, self.n_iter
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Projections ``(m, k)`` of rows ``x`` ``(m, units)`` on the components."""
        if not hasattr(self, "components_"):
            raise RuntimeError("call fit() before transform()")
        x = torch.as_tensor(x).detach().to(torch.float64).reshape(len(x), -1)
        return (x - self.mean_) @ self.components_.T


def array_source(x, chunk: int = 1024) -> Source:
    """A source over the rows of an in-memory matrix (for tests and small data)."""
    arr = torch.as_tensor(np.asarray(x))
    return lambda: (arr[i : i + chunk] for i in range(0, len(arr), chunk))
