"""Eigenvalues of large operators from operator applications only.

* :func:`arnoldi_eigs`: the ``k`` eigenvalues of largest modulus (or largest real part) by
  Arnoldi iteration with Krylov-Schur restarts (Stewart 2001). Memory: ``krylov_dim + 1``
  basis vectors of length ``n``; work: one operator application per basis vector.
* :func:`power_iteration`: spectral radius and leading eigenvalue by block power iteration
  with Rayleigh-Ritz (a block of 2 also converges when the leading eigenvalues are a complex
  pair, where the single-vector method oscillates).
* :func:`dense_eigvals`: the reference, expanding the operator to its ``n x n`` matrix.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg
import torch

from ..errors import ShapeError
from .operators import Operator

WHICH = {"LM": "largest modulus", "LR": "largest real part"}


@dataclass
class Spectrum:
    """Eigenvalues (complex, sorted by ``which``) with their residuals ``||A x - l x||``."""

    eigenvalues: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    method: str
    which: str = "LM"
    n_applications: int = 0
    restarts: int = 0
    eigenvectors: torch.Tensor | None = field(default=None, repr=False)

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))

    @property
    def spectral_radius(self) -> float:
        """Largest modulus among the eigenvalues found."""
        return float(np.max(np.abs(self.eigenvalues)))

    def to_frame(self) -> pd.DataFrame:
        """One row per eigenvalue: ``real``, ``imag``, ``modulus``, ``residual``, ``converged``."""
        ev = self.eigenvalues
        return pd.DataFrame({
            "real": ev.real, "imag": ev.imag, "modulus": np.abs(ev),
            "residual": self.residuals, "converged": self.converged,
        }).rename_axis("eigenvalue")


def _sort_key(values: np.ndarray, which: str) -> np.ndarray:
    if which not in WHICH:
        raise ValueError(f"which={which!r}; choose one of {sorted(WHICH)} ({WHICH})")
    return np.abs(values) if which == "LM" else values.real


def _orthogonalise(w: torch.Tensor, basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Classical Gram-Schmidt applied twice (CGS2): returns (w orthogonal to basis, coefficients)."""
    h = basis @ w
    w = w - basis.T @ h
    h2 = basis @ w
    return w - basis.T @ h2, h + h2


def _random_unit(n: int, gen: torch.Generator, dtype) -> torch.Tensor:
    v = torch.randn(n, generator=gen, dtype=dtype)
    return v / v.norm()


def arnoldi_eigs(
    op: Operator,
    k: int = 6,
    which: str = "LM",
    krylov_dim: int | None = None,
    tol: float | None = None,
    max_restarts: int = 200,
    seed: int = 0,
    return_vectors: bool = False,
    basis_dtype: torch.dtype = torch.float64,
) -> Spectrum:
    """The ``k`` eigenvalues of ``op`` of largest modulus (``which="LM"``) or real part ("LR").

    Builds a Krylov basis of ``krylov_dim`` (default ``max(3k, k + 40)``) vectors, computes
    Ritz values from the projected matrix and restarts keeping the wanted Schur vectors, until
    each wanted Ritz pair has residual ``<= tol * max(|l|, 1e-3 * max|l|)`` or
    ``max_restarts`` is reached (``converged`` then says which eigenvalues are not reliable).
    ``tol`` defaults to 1e-10 for float64 operators and ``50 eps`` (6e-6) for float32 ones,
    whose applications are only that accurate. Like any Krylov method it can converge to
    ``k`` eigenvalues while missing one whose eigenvector the start vector barely contains
    (clustered spectra of convolutions); a larger ``krylov_dim`` makes that unlikely.
    """
    if not isinstance(op, Operator):
        raise TypeError(f"expected an Operator, got {type(op).__name__}; wrap it with Operator.from_*")
    n = op.n
    if not 1 <= k <= n:
        raise ShapeError(f"k={k} eigenvalues asked of a {n} x {n} operator; need 1 <= k <= {n}")
    m = min(n, krylov_dim or max(3 * k, k + 40))
    if m <= k and m < n:
        raise ShapeError(f"krylov_dim={krylov_dim} must exceed k={k} (use >= 2k)")
    _sort_key(np.zeros(1), which)
    if tol is None:
        tol = 1e-10 if op.dtype == torch.float64 else 50 * torch.finfo(op.dtype).eps
    gen = torch.Generator().manual_seed(seed)
    basis = torch.zeros(m + 1, n, dtype=basis_dtype)
    hess = np.zeros((m + 1, m))
    basis[0] = _random_unit(n, gen, basis_dtype)
    start, applications, restarts = 0, 0, 0
    while True:
        for j in range(start, m):
            w = op(basis[j]).to(basis_dtype)
            applications += 1
            w, h = _orthogonalise(w, basis[: j + 1])
            beta = float(w.norm())
            hess[: j + 1, j] = h.numpy()
            if j + 1 == n:  # the basis spans the whole space: the decomposition is exact
                hess[j + 1, j] = 0.0
            elif beta <= 1e-12 * (float(h.norm()) + beta):  # invariant subspace: continue elsewhere
                hess[j + 1, j] = 0.0
                fresh, _ = _orthogonalise(_random_unit(n, gen, basis_dtype), basis[: j + 1])
                basis[j + 1] = fresh / fresh.norm()
            else:
                hess[j + 1, j] = beta
                basis[j + 1] = w / beta
        rayleigh, tail = hess[:m, :m], hess[m, :m]
        theta, vectors = scipy.linalg.eig(rayleigh)
        order = np.argsort(-_sort_key(theta, which), kind="stable")
        residual = np.abs(tail @ vectors)
        scale = np.maximum(np.abs(theta), 1e-3 * np.abs(theta).max() + 1e-300)
        done = residual[order[:k]] <= tol * scale[order[:k]]
        if done.all() or restarts >= max_restarts or m == n:
            break
        keep = _restart_size(_sort_key(theta, which)[order], k, m)
        if keep is None:
            break
        start = _krylov_schur_restart(basis, hess, which, keep, m)
        restarts += 1
    chosen = order[:k]
    vecs = None
    if return_vectors:
        y = vectors[:, chosen]
        real = basis[:m].T @ torch.as_tensor(y.real, dtype=basis_dtype)
        imag = basis[:m].T @ torch.as_tensor(y.imag, dtype=basis_dtype)
        vecs = torch.complex(real, imag)
    return Spectrum(
        eigenvalues=theta[chosen], residuals=residual[chosen], converged=done.copy(),
        method="arnoldi", which=which, n_applications=applications, restarts=restarts,
        eigenvectors=vecs,
    )


def _restart_size(keys_sorted: np.ndarray, k: int, m: int) -> int | None:
    """How many Ritz values to keep: half-way between ``k`` and ``m``, moved past ties."""
    keep = k + max(1, (m - k) // 2)
    while keep < m and np.isclose(keys_sorted[keep - 1], keys_sorted[keep], rtol=1e-12, atol=0):
        keep += 1
    return keep if keep < m else None


def _krylov_schur_restart(basis, hess, which, keep, m) -> int:
    """Compress the Krylov decomposition to the Schur vectors of the ``keep`` wanted Ritz values.

    Rewrites ``basis`` and ``hess`` in place and returns the new decomposition size.
    """
    rayleigh, tail = hess[:m, :m].copy(), hess[m, :m].copy()
    keys = np.sort(_sort_key(scipy.linalg.eigvals(rayleigh), which))[::-1]
    threshold = 0.5 * (keys[keep - 1] + keys[keep])
    if which == "LM":
        def select(re, im):
            return np.hypot(re, im) > threshold
    else:
        def select(re, im):
            return re > threshold
    schur, z, size = scipy.linalg.schur(rayleigh, output="real", sort=select)
    size = int(size)
    z = torch.as_tensor(z[:, :size], dtype=basis.dtype)
    last = basis[m].clone()
    basis[:size] = z.T @ basis[:m]
    basis[size] = last
    basis[size + 1 :] = 0
    hess[:] = 0.0
    hess[:size, :size] = schur[:size, :size]
    hess[size, :size] = tail @ z.numpy()
    return size


@dataclass
class PowerResult:
    """Block power iteration: ``spectral_radius``, ``eigenvalue`` (leading Ritz value)."""

    spectral_radius: float
    eigenvalue: complex
    residual: float
    converged: bool
    iterations: int
    history: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


def power_iteration(
    op: Operator, block: int = 2, max_iter: int = 2000, tol: float = 1e-8, seed: int = 0,
) -> PowerResult:
    """Spectral radius of ``op`` by block power iteration with Rayleigh-Ritz.

    ``residual`` is ``||A x - l x|| / |l|`` of the leading Ritz pair (unit ``x``); the run
    stops when it drops below ``tol`` and ``converged`` is False if it never does (e.g. with
    ``block=1`` and a dominant complex pair, or several eigenvalues of equal modulus).
    """
    if block < 1 or block > op.n:
        raise ShapeError(f"block={block} must be between 1 and n={op.n}")
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(op.n, block, generator=gen, dtype=torch.float64))
    history, lead, residual = [], 0j, np.inf
    for it in range(1, max_iter + 1):
        z = op(q.T.contiguous()).T.to(torch.float64)
        qn, zn = q.numpy(), z.numpy()
        ritz, y = scipy.linalg.eig(qn.T @ zn)
        i = int(np.argmax(np.abs(ritz)))
        lead = complex(ritz[i])
        x = qn @ y[:, i]
        residual = float(np.linalg.norm(zn @ y[:, i] - lead * x) / np.linalg.norm(x))
        residual /= max(abs(lead), 1e-300)
        history.append(abs(lead))
        if residual < tol:
            return PowerResult(abs(lead), lead, residual, True, it, np.array(history))
        q, _ = torch.linalg.qr(z)
    return PowerResult(abs(lead), lead, residual, False, max_iter, np.array(history))


def dense_eigvals(op: Operator, max_n: int = 8192) -> np.ndarray:
    """All eigenvalues of ``op`` from its dense matrix (``n^2`` doubles: refuses ``n > max_n``)."""
    if op.n > max_n:
        gib = op.n**2 * 8 / 2**30
        raise ShapeError(
            f"{op.name}: the dense matrix would be {op.n} x {op.n} ({gib:.1f} GiB) and its "
            f"eigendecomposition O(n^3); use arnoldi_eigs for n > {max_n} (or raise max_n)"
        )
    return torch.linalg.eigvals(op.to_dense()).numpy()


def top_k(values: np.ndarray, k: int, which: str = "LM") -> np.ndarray:
    """The ``k`` entries of ``values`` with the largest modulus (``LM``) or real part (``LR``)."""
    values = np.asarray(values)
    return values[np.argsort(-_sort_key(values, which), kind="stable")[:k]]
