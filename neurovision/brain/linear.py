"""Linear mappings fitted from second moments, batched over leading axes.

Both solvers take the centred cross-products of a training set, ``C = Xc' Xc`` (..., F, F) and
``S = Xc' Yc`` (..., F, N), and return coefficients ``B`` (..., F, N) so that predictions are
``(X - x_mean) @ B + y_mean``. Working from moments instead of samples makes a fit cost
O(F^2) per component whatever the number of samples, and lets cross-validation reuse sums.

:func:`pls_fit` reproduces scikit-learn's ``PLSRegression(scale=False)`` (NIPALS, mode A,
regression deflation, power method with ``tol`` on the squared change of the weights, the sign
convention and the pseudo-inverse of the rotations) step by step. The power iteration
``w <- normalise(X_k' Y_k Y_k' X_k w)`` started at ``X_k' y_j`` (first non-constant target
column) stays in the span of ``S_k = X_k' Y_k``: with ``w = S_k a`` it is the N-dimensional
iteration ``a <- G_k a`` on ``G_k = S_k' S_k`` (``|w|^2 = a' G_k a``), so an iteration costs
O(N^2), not O(F N). Deflating ``X_k`` by its score ``t = X_k w`` maps to ``C_{k+1} = C_k - a p p'``
and ``S_{k+1} = S_k - a p c'`` with ``a = w' C_k w``, ``p = C_k w / a`` (x loadings) and
``c = S_k' w / a`` (y loadings); ``G_{k+1}`` follows by a rank-2 update. ``C_k`` is never formed:
``C_k w = C w - sum_j a_j p_j (p_j' w)``, so a component costs one F x F matrix-vector product,
and ``C`` itself may be given as a shared matrix minus a low-rank ``downdate`` ``H' H`` (a
training set's moments as all samples' minus the held-out ones', never formed).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

EPS = np.finfo(np.float64).eps


@dataclass
class PowerStats:
    """How the power iterations of PLS fits ended (accumulated over calls).

    ``fits``: component fits run; ``max_iter_reached``: fits stopped by ``max_iter`` before the
    squared change of the weights fell below ``tol``; for those, ``worst_change`` (the last
    squared change), ``worst_angle_deg`` (largest angle between the returned weights and the
    exact dominant singular vector) and ``worst_gap`` (largest ratio of the second to the first
    singular value of ``S_k``: near 1, the power method cannot separate them).
    """

    fits: int = 0
    max_iter_reached: int = 0
    worst_change: float = 0.0
    worst_angle_deg: float = 0.0
    worst_gap: float = 0.0
    components: list = field(default_factory=list)  # component index of each stopped fit

    def add(self, other: "PowerStats") -> None:
        self.fits += other.fits
        self.max_iter_reached += other.max_iter_reached
        self.worst_change = max(self.worst_change, other.worst_change)
        self.worst_angle_deg = max(self.worst_angle_deg, other.worst_angle_deg)
        self.worst_gap = max(self.worst_gap, other.worst_gap)
        self.components.extend(other.components)

    def summary(self) -> dict:
        """Plain numbers for result attributes."""
        return {"pls_component_fits": self.fits, "pls_max_iter_reached": self.max_iter_reached,
                "pls_worst_last_change": self.worst_change, "pls_worst_angle_deg": self.worst_angle_deg,
                "pls_worst_singular_gap": self.worst_gap}


@dataclass
class PLSFit:
    """``coef = rotations @ y_loadings'``: rotations (..., F, K), y_loadings (..., N, K)."""

    rotations: np.ndarray
    y_loadings: np.ndarray
    stats: PowerStats

    @property
    def coef(self) -> np.ndarray:
        return self.rotations @ np.swapaxes(self.y_loadings, -1, -2)


def _first_live_column(yy_diag: np.ndarray) -> np.ndarray:
    """Index of the first target column whose residual is not ~0 (-1 when none), per batch."""
    live = np.sqrt(np.maximum(yy_diag, 0.0)) > 10 * EPS
    first = np.argmax(live, axis=-1)
    return np.where(live.any(axis=-1), first, -1)


def _power_method(S: np.ndarray, G: np.ndarray, start: np.ndarray, max_iter: int, tol: float,
                  stats: PowerStats, component: int, direct_steps: int = 16) -> np.ndarray:
    """Dominant left singular vectors (B, F) of S (B, F, N) by scikit-learn's NIPALS power method.

    Iterates ``v_i = normalise((S S')^i S e_j)`` as ``v_i = S a_i``, ``a_i = G^i e_j / |S G^i e_j|``
    with ``G = S'S`` (B, N, N), and stops at the first ``i >= 1`` with ``|v_i - v_(i-1)|^2 < tol``
    (``= d' G d`` for ``d = a_i - a_(i-1)``), or at ``i = max_iter - 1`` as scikit-learn does.
    Fits still running after ``direct_steps`` iterations continue in closed form on the
    eigendecomposition ``G = V diag(lam) V'`` (``a_(i+s) ~ V lam^s V' a_i``), evaluated in blocks.
    """
    B, _, N = S.shape
    rows = np.arange(B)
    a = np.zeros((B, N))
    a[rows, start] = 1.0
    change = np.zeros(B)
    pending = np.arange(0)
    if N > 1:
        g = G[rows, :, start]
        norm = np.sqrt(np.maximum(g[rows, start], np.finfo(np.float64).tiny))[:, None]
        a, g = a / norm, g / norm  # a' G a = 1, g = G a
        pending = rows
        for i in range(1, min(direct_steps, max_iter)):
            h = (G[pending] @ g[pending, :, None])[..., 0]
            norm = np.sqrt(np.maximum((g[pending] * h).sum(1), np.finfo(np.float64).tiny))[:, None]
            new_a, new_g = g[pending] / norm, h / norm
            change[pending] = ((new_a - a[pending]) * (new_g - g[pending])).sum(1)
            a[pending], g[pending] = new_a, new_g
            pending = pending[change[pending] >= tol]
            if not len(pending):
                break
        if len(pending) and max_iter > direct_steps:
            pending = _closed_form(G, a, g, change, pending, direct_steps, max_iter, tol)
        _record(stats, G, a, g, pending, change, component, tol, max_iter)
    w = (S @ a[..., None])[..., 0]
    return w / (np.linalg.norm(w, axis=1, keepdims=True) + EPS)


def _closed_form(G, a, g, change, pending, done: int, max_iter: int, tol: float, block: int = 32) -> np.ndarray:
    """Continue the iteration of the ``pending`` fits from iterate ``done - 1`` in closed form;
    updates ``a``, ``g`` and ``change`` in place and returns the fits that reached ``max_iter``."""
    lam, V = np.linalg.eigh(G[pending])
    lam = np.maximum(lam, 0.0)
    top = np.maximum(lam.max(axis=1, keepdims=True), np.finfo(np.float64).tiny)
    coeff = (np.swapaxes(V, 1, 2) @ a[pending, :, None])[..., 0]  # V' a
    with np.errstate(divide="ignore"):
        log_ratio = np.log(lam / top)  # -inf for null directions

    def iterates(steps: np.ndarray) -> np.ndarray:
        """Normalised ``lam^s V'a`` (k, len(steps), N) for steps ``s`` after the current iterate."""
        with np.errstate(invalid="ignore"):
            power = np.where(steps[:, None] == 0, 1.0, np.exp(steps[:, None] * log_ratio[:, None, :]))
        b = power * coeff[:, None, :]
        norm = np.sqrt((b**2 * lam[:, None, :]).sum(-1, keepdims=True))
        return b / np.where(norm > 0, norm, 1.0)

    stop = np.full(len(pending), max_iter - done)
    last = np.zeros(len(pending))
    left = np.ones(len(pending), dtype=bool)
    for first in range(0, max_iter - done, block):
        steps = np.arange(first, min(first + block, max_iter - done) + 1)
        b = iterates(steps.astype(float))
        moved = ((b[:, 1:] - b[:, :-1]) ** 2 * lam[:, None, :]).sum(-1)
        hit = (moved < tol) & left[:, None]
        found = hit.any(axis=1)
        stop[found] = steps[1:][hit[found].argmax(axis=1)]
        last[left] = moved[left, -1]
        last[found] = moved[found, hit[found].argmax(axis=1)]
        left &= ~found
        if not left.any():
            break
    with np.errstate(invalid="ignore"):
        power = np.where(stop[:, None] == 0, 1.0, np.exp(stop[:, None] * log_ratio))
    b = power * coeff
    norm = np.sqrt((b**2 * lam).sum(-1, keepdims=True))
    b /= np.where(norm > 0, norm, 1.0)
    a[pending] = (V @ b[..., None])[..., 0]
    g[pending] = (V @ (lam * b)[..., None])[..., 0]
    change[pending] = last
    return pending[left]


def _record(stats: PowerStats, G, a, g, pending, change, component: int, tol: float, max_iter: int) -> None:
    """Count the fits that reached ``max_iter`` and how far they are from the dominant direction."""
    stats.fits += len(a)
    if not len(pending):
        return
    lam, U = np.linalg.eigh(G[pending])
    top, u = np.maximum(lam[:, -1], np.finfo(np.float64).tiny), U[:, :, -1]
    cos = np.abs((g[pending] * u).sum(1)) / np.sqrt(top)  # |v' v_exact| with |v| = |v_exact| = 1
    angle = np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))
    gap = np.sqrt(np.maximum(lam[:, -2], 0.0) / top)
    stats.max_iter_reached += len(pending)
    stats.worst_change = max(stats.worst_change, float(change[pending].max()))
    stats.worst_angle_deg = max(stats.worst_angle_deg, float(angle.max()))
    stats.worst_gap = max(stats.worst_gap, float(gap.max()))
    stats.components.extend([component] * len(pending))
    warnings.warn(
        f"PLS power method reached max_iter={max_iter} in {len(pending)} of {len(a)} fits of "
        f"component {component + 1}: last squared change of the weights {change[pending].max():.2g} "
        f"(tol {tol:g}), at most {angle.max():.2g} degrees from the dominant direction, whose "
        f"singular value the next one reaches to {gap.max():.4f} (the same stop as scikit-learn's)",
        ConvergenceWarning, stacklevel=4)


def pls_fit(C: np.ndarray, S: np.ndarray, yy: np.ndarray, n_components: int = 25, max_iter: int = 500,
            tol: float = 1e-6, downdate: np.ndarray | None = None) -> PLSFit:
    """PLS fits of ``Bc x G`` training sets from their centred moments, float64.

    ``C`` (Bc, F, F) is shared by the G fits of its row: ``S`` (Bc, G, F, N), ``yy`` (Bc, G, N) the
    diagonal of ``Yc'Yc``; the training ``C`` of fit (b, g) is ``C[b] - H' H`` with
    ``H = downdate[b, g]`` (m, F) when given. Returns rotations (Bc, G, F, K) and y loadings
    (Bc, G, N, K).
    """
    Bc, Gn, F, N = S.shape
    if n_components > F:
        raise ValueError(f"n_components={n_components} exceeds the {F} source features")
    S = np.array(S, dtype=np.float64).reshape(Bc * Gn, F, N)  # deflated in place
    yy = np.array(yy, dtype=np.float64).reshape(Bc * Gn, N)
    H = None if downdate is None else downdate.reshape(Bc * Gn, -1, F)
    B = Bc * Gn

    def apply_c(w: np.ndarray) -> np.ndarray:
        out = np.swapaxes(C @ np.swapaxes(w.reshape(Bc, Gn, F), 1, 2), 1, 2).reshape(B, F)
        if H is not None:
            out -= (np.swapaxes(H, 1, 2) @ (H @ w[..., None]))[..., 0]
        return out

    G = np.swapaxes(S, 1, 2) @ S
    W, P = np.zeros((B, F, n_components)), np.zeros((B, F, n_components))
    Q, A = np.zeros((B, N, n_components)), np.zeros((B, n_components))
    active = np.ones(B, dtype=bool)
    stats = PowerStats()
    for k in range(n_components):
        start = _first_live_column(yy)
        active &= start >= 0
        if not active.any():
            break
        w = _power_method(S, G, np.maximum(start, 0), max_iter, tol, stats, k)
        top = np.abs(w).argmax(axis=1)
        w *= np.sign(w[np.arange(B), top])[:, None]
        Pk = P[:, :, :k]
        Cw = apply_c(w) - (Pk @ (A[:, :k, None] * (np.swapaxes(Pk, 1, 2) @ w[..., None])))[..., 0]
        a = (w * Cw).sum(1)
        keep = active & (a > 0)
        safe = np.where(keep, a, 1.0)
        u = Cw * keep[:, None]  # a p
        c = (np.swapaxes(S, 1, 2) @ w[..., None])[..., 0] / safe[:, None] * keep[:, None]
        z = (np.swapaxes(S, 1, 2) @ u[..., None])[..., 0]  # S_k' (a p)
        S -= u[:, :, None] * c[:, None, :]
        G += (u * u).sum(1)[:, None, None] * c[:, :, None] * c[:, None, :] \
            - c[:, :, None] * z[:, None, :] - z[:, :, None] * c[:, None, :]
        yy -= a[:, None] * keep[:, None] * c**2
        W[:, :, k], P[:, :, k], Q[:, :, k], A[:, k] = w * keep[:, None], u / safe[:, None], c, a * keep
    rotations = W @ np.linalg.pinv(np.swapaxes(P, 1, 2) @ W)
    return PLSFit(rotations.reshape(Bc, Gn, F, -1), Q.reshape(Bc, Gn, N, -1), stats)


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
    C = np.asarray(C, dtype=np.float64).reshape(-1, F, F)
    yy = np.einsum("...nn->...n", np.asarray(YY, dtype=np.float64)).reshape(-1, 1, N)
    fit = pls_fit(C, np.reshape(S, (-1, 1, F, N)), yy, n_components, max_iter, tol)
    return fit.coef.reshape(*lead, F, N)


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
