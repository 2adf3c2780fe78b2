"""Linear mappings fitted from second moments, batched over a leading axis.

Both solvers take the centred cross-products of a training set, ``C = Xc' Xc`` (..., F, F) and
``S = Xc' Yc`` (..., F, N), and return coefficients ``B`` (..., F, N) so that predictions are
``(X - x_mean) @ B + y_mean``. Working from moments instead of samples makes a fit cost
O(F^2) per component whatever the number of samples, and lets cross-validation reuse sums.

:func:`pls_coefficients` reproduces scikit-learn's ``PLSRegression(scale=False)`` (NIPALS,
mode A, regression deflation, power method with ``tol`` on the squared change of the weights,
the sign convention and the pseudo-inverse of the rotations) step by step: the power iteration
``w <- normalise(X_k' Y_k Y_k' X_k w)`` started at ``X_k' y_j`` (first non-constant target
column) only needs ``S_k = X_k' Y_k``, and deflating ``X_k`` by its score ``t = X_k w`` maps to
``C_{k+1} = C_k - a p p'`` and ``S_{k+1} = S_k - a p c'`` with ``a = w' C_k w``,
``p = C_k w / a`` (x loadings) and ``c = S_k' w / a`` (y loadings). ``C_k`` is never formed:
``C_k w = C w - sum_j a_j p_j (p_j' w)``, so a component costs one F x F matrix-vector product.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

EPS = np.finfo(np.float64).eps


def _first_live_column(yy_diag: np.ndarray) -> np.ndarray:
    """Index of the first target column whose residual is not ~0 (-1 when none), per batch."""
    live = np.sqrt(np.maximum(yy_diag, 0.0)) > 10 * EPS
    first = np.argmax(live, axis=-1)
    return np.where(live.any(axis=-1), first, -1)


def _power_method(S: np.ndarray, start: np.ndarray, max_iter: int, tol: float) -> np.ndarray:
    """Dominant left singular vectors of S (B, F, N) by scikit-learn's NIPALS power method.

    The iterates ``v_i = normalise((S S')^i S e_j)`` are evaluated in closed form from the
    eigendecomposition ``S'S = V diag(lam) V'``: ``v_i ~ S V (lam^i * V' e_j)``, so the whole
    sequence, its convergence test ``|v_i - v_(i-1)|^2 < tol`` and the stopping iterate cost a
    few small array operations instead of ``max_iter`` matrix products.
    """
    batch = np.arange(S.shape[0])
    if S.shape[2] == 1:
        w = S[batch, :, start]
        return w / (np.linalg.norm(w, axis=1, keepdims=True) + EPS)
    lam, V = np.linalg.eigh(np.swapaxes(S, 1, 2) @ S)
    lam = np.maximum(lam, 0.0)
    top = np.maximum(lam.max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
    coeff = V[batch, start, :]  # V' e_j, (B, N)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(lam / top)  # -inf for null directions

    def coefficients(steps: np.ndarray) -> np.ndarray:
        """``lam^i * V'e_j`` (up to scale) for iterations ``steps`` (B or 1, k): (B, k, N)."""
        with np.errstate(invalid="ignore"):
            power = np.exp(steps[..., None] * log_ratio[:, None, :])
        return np.where(steps[..., None] == 0, 1.0, power) * coeff[:, None, :]

    def normalised(a: np.ndarray) -> np.ndarray:
        norm = np.sqrt((a**2 * lam[:, None, :]).sum(-1, keepdims=True))  # |S V a|
        return a / np.where(norm > 0, norm, 1.0)

    stop = np.full(S.shape[0], max_iter - 1)
    pending = np.ones(S.shape[0], dtype=bool)
    block = 16
    for first in range(1, max_iter, block):
        steps = np.arange(first - 1, min(first + block, max_iter))
        b = normalised(coefficients(steps[None, :]))
        moved = ((b[:, 1:] - b[:, :-1]) ** 2 * lam[:, None, :]).sum(-1)  # |v_i - v_(i-1)|^2
        done = (moved < tol) & pending[:, None]
        hit = done.any(axis=1)
        stop[hit] = steps[1:][done[hit].argmax(axis=1)]
        pending &= ~hit
        if not pending.any():
            break
    if pending.any():
        warnings.warn("PLS power method reached max_iter before converging", ConvergenceWarning)
    w = (S @ (V @ np.swapaxes(coefficients(stop[:, None].astype(float)), 1, 2)))[..., 0]
    return w / (np.linalg.norm(w, axis=1, keepdims=True) + EPS)


def pls_coefficients(
    C: np.ndarray,
    S: np.ndarray,
    YY: np.ndarray,
    n_components: int = 25,
    max_iter: int = 500,
    tol: float = 1e-6,
) -> np.ndarray:
    """PLS regression coefficients (..., F, N) from centred moments (see module docstring).

    ``C`` (..., F, F) = Xc'Xc, ``S`` (..., F, N) = Xc'Yc, ``YY`` (..., N, N) = Yc'Yc, all float64.
    """
    lead = C.shape[:-2]
    F, N = S.shape[-2:]
    if n_components > F:
        raise ValueError(f"n_components={n_components} exceeds the {F} source features")
    C = np.asarray(C, dtype=np.float64).reshape(-1, F, F)
    S = np.array(S, dtype=np.float64).reshape(-1, F, N)  # deflated in place
    yy = np.einsum("bnn->bn", np.asarray(YY, dtype=np.float64).reshape(-1, N, N)).copy()
    B = C.shape[0]
    W = np.zeros((B, F, n_components))
    P = np.zeros((B, F, n_components))
    Q = np.zeros((B, N, n_components))
    A = np.zeros((B, n_components))
    active = np.ones(B, dtype=bool)
    for k in range(n_components):
        start = _first_live_column(yy)
        active &= start >= 0
        if not active.any():
            break
        w = _power_method(S, np.maximum(start, 0), max_iter, tol)
        top = np.abs(w).argmax(axis=1)
        w *= np.sign(w[np.arange(B), top])[:, None]
        # C_k w = C w - sum_j a_j p_j (p_j' w): the deflated C is never formed
        Pk = P[:, :, :k]
        Cw = (C @ w[..., None])[..., 0] - (Pk @ (A[:, :k, None] * (np.swapaxes(Pk, 1, 2) @ w[..., None])))[..., 0]
        a = (w * Cw).sum(1)
        keep = active & (a > 0)
        safe = np.where(keep, a, 1.0)
        p = Cw / safe[:, None] * keep[:, None]
        c = (np.swapaxes(S, 1, 2) @ w[..., None])[..., 0] / safe[:, None] * keep[:, None]
        a = a * keep
        S -= (a[:, None] * p)[:, :, None] * c[:, None, :]
        yy -= a[:, None] * c**2
        W[:, :, k], P[:, :, k], Q[:, :, k], A[:, k] = w * keep[:, None], p, c, a
    rotations = W @ np.linalg.pinv(np.swapaxes(P, 1, 2) @ W)
    coef = rotations @ np.swapaxes(Q, 1, 2)
    return coef.reshape(*lead, F, N)


def ridge_coefficients(C: np.ndarray, S: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Ridge coefficients ``(C + alpha I)^-1 S`` (..., F, N), as scikit-learn's ``Ridge``."""
    if alpha < 0:
        raise ValueError(f"ridge alpha must be >= 0, got {alpha}")
    F = C.shape[-1]
    return np.linalg.solve(C + alpha * np.eye(F), S)


def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r between matching columns of ``a`` and ``b`` along axis -2 (NaN if constant)."""
    a = a - a.mean(axis=-2, keepdims=True)
    b = b - b.mean(axis=-2, keepdims=True)
    na = np.sqrt((a**2).sum(axis=-2))
    nb = np.sqrt((b**2).sum(axis=-2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=-2) / (na * nb)
    return np.clip(r, -1.0, 1.0)
