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
``c = S_k' w / a`` (y loadings); ``G_{k+1}`` follows by a rank-2 update. Neither ``C_k`` nor
``S_k`` is formed: ``C_k w = C w - sum_j a_j p_j (p_j' w)`` and ``S_k`` likewise is ``S`` minus
``sum_j a_j p_j c_j'``, so a component costs one F x F matrix-vector product (symmetric, reading
one triangle, when a ``C`` serves one fit) and two passes over
``S`` (``S_k a``, then ``S_k' (a p)``; ``S_k' w`` is ``G_k a`` up to w's scale),
and ``C`` itself may be given as a shared matrix minus a low-rank ``downdate`` ``H' H`` (a
training set's moments as all samples' minus the held-out ones', never formed).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.blas import dsymv
from sklearn.exceptions import ConvergenceWarning

EPS = np.finfo(np.float64).eps


@dataclass
class PowerStats:
    """How the power iterations of PLS fits ended (accumulated over calls).

    ``fits``: component fits run; ``max_iter_reached``: fits stopped by ``max_iter`` before the
    squared change of the weights fell below ``tol``; for those, ``worst_change`` (the last
    squared change), ``worst_angle_deg`` (largest angle between the returned weights and the
    exact dominant singular vector) and ``worst_gap`` (largest ratio of the second to the first
    singular value of ``S_k``: near 1, the power method cannot separate them). ``rank_stops``:
    fits that ended before ``n_components`` because their deflated ``X'Y`` or x scores had
    fallen to rounding level (more components asked for than the features' rank supports).
    """

    fits: int = 0
    rank_stops: int = 0
    max_iter_reached: int = 0
    worst_change: float = 0.0
    worst_angle_deg: float = 0.0
    worst_gap: float = 0.0
    components: list = field(default_factory=list)  # component index of each stopped fit

    def add(self, other: "PowerStats") -> None:
        self.fits += other.fits
        self.rank_stops += other.rank_stops
        self.max_iter_reached += other.max_iter_reached
        self.worst_change = max(self.worst_change, other.worst_change)
        self.worst_angle_deg = max(self.worst_angle_deg, other.worst_angle_deg)
        self.worst_gap = max(self.worst_gap, other.worst_gap)
        self.components.extend(other.components)

    def summary(self) -> dict:
        """Plain numbers for result attributes."""
        return {"pls_component_fits": self.fits, "pls_rank_stops": self.rank_stops,
                "pls_max_iter_reached": self.max_iter_reached,
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


def _power_method(G: np.ndarray, start: np.ndarray, max_iter: int, tol: float,
                  stats: PowerStats, component: int) -> np.ndarray:
    """Coefficients ``a`` (B, N) of the dominant left singular vectors ``S a`` (unnormalised) of
    ``S`` (B, F, N), given ``G = S'S``, by scikit-learn's NIPALS power method.

    Iterates ``v_i = normalise((S S')^i S e_j)`` as ``v_i = S a_i``, ``a_i = G^i e_j / |S G^i e_j|``
    with ``G = S'S`` (B, N, N), and stops at the first ``i >= 1`` with ``|v_i - v_(i-1)|^2 < tol``
    (``= d' G d`` for ``d = a_i - a_(i-1)``), or at ``i = max_iter - 1`` as scikit-learn does.
    An iteration is one batched N x N matrix-vector product over the fits still running (see
    :func:`_iterate`).
    """
    B, N, _ = G.shape
    rows = np.arange(B)
    a = np.zeros((B, N))
    a[rows, start] = 1.0
    change = np.zeros(B)
    pending = np.arange(0)
    if N > 1:
        g = G[rows, :, start]
        norm = np.sqrt(np.maximum(g[rows, start], np.finfo(np.float64).tiny))[:, None]
        a, g = a / norm, g / norm  # a' G a = 1, g = G a
        pending = _iterate(G, a, g, change, max_iter, tol)
        _record(stats, G, a, g, pending, change, component, tol, max_iter)
    return a


def _iterate(G, a, g, change, max_iter: int, tol: float, block: int = 16) -> np.ndarray:
    """Power iterations 1 .. max_iter - 1 on all fits, in place on ``a``, ``g`` (``= G a``) and
    ``change``; returns the fits that reached ``max_iter``.

    Iterations run ``block`` at a time: the Krylov vectors ``y_(j+1) = G y_j / s`` (``y_0 = a``,
    ``s`` the power of two at or above ``trace(G)``, which bounds the largest eigenvalue of the
    positive semi-definite ``G``, so nothing overflows and the scaling is exact) cost one batched
    product each. The iterates are ``a_j = y_j / n_j`` with ``n_j^2 = s y_j' y_(j+1)`` (so that
    ``a_j' G a_j = 1``) and ``G a_j = s y_(j+1) / n_j``; their squared changes
    ``(a_j - a_(j-1))' G (a_j - a_(j-1))`` are ``2 - 2 s y_j' y_j / (n_(j-1) n_j)``, so a block
    needs two dot products per vector and forms only the iterate each fit keeps: the first whose
    change is below ``tol``. Fits still running are gathered into a compact copy of ``G`` once a
    quarter of the gathered ones have stopped.
    """
    tiny = np.finfo(np.float64).tiny
    idx, done, Gs = np.arange(len(a)), 1, G
    while len(idx) and done < max_iter:
        if len(idx) < len(Gs):
            Gs = G[idx]
        s = np.exp2(np.ceil(np.log2(np.maximum(np.trace(Gs, axis1=1, axis2=2), tiny))))
        inverse = (1.0 / s)[:, None]
        kept = np.ones(len(idx), dtype=bool)
        while done < max_iter and 4 * kept.sum() > 3 * len(idx):
            m = min(block, max_iter - done)
            Y = np.empty((m + 2, len(idx), a.shape[1]))
            Y[0], Y[1] = a[idx], g[idx] * inverse
            for j in range(1, m + 1):
                np.matmul(Gs, Y[j][..., None], out=Y[j + 1][..., None])
                Y[j + 1] *= inverse
            norms = np.sqrt(np.maximum(s * np.einsum("jfn,jfn->jf", Y[:-1], Y[1:]), tiny))  # (m + 1, fits)
            moved = 2.0 - 2.0 * s * np.einsum("jfn,jfn->jf", Y[1:-1], Y[1:-1]) / (norms[:-1] * norms[1:])
            below = (moved < tol) & kept
            stop = np.where(below.any(0), below.argmax(0), m - 1)  # iterate each fit keeps
            live = kept & ~below.any(0)
            cols = np.flatnonzero(kept)
            rows, pick = idx[cols], stop[cols] + 1
            norm = norms[pick, cols][:, None]
            a[rows], g[rows] = Y[pick, cols] / norm, Y[pick + 1, cols] * (s[cols, None] / norm)
            change[rows] = moved[stop[cols], cols]
            kept, done = live, done + m
        idx = idx[kept]
    return idx


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


def _each(M: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``M[b] @ x[b]`` for M (B, R, M), x (B, M): one matrix-vector product per fit, each over one
    contiguous (or transposed) matrix (numpy's stacked product is slower on these shapes); by
    ``np.dot``, which releases the GIL for fits run side by side (``@`` on a vector does not)."""
    return np.stack([np.dot(m, v) for m, v in zip(M, x)])


def _symmetric_products(C: np.ndarray, W: np.ndarray, rows: int = 64) -> np.ndarray:
    """``W[b] @ C[b]`` for symmetric C (Bc, F, F) and few vectors W (Bc, G, F), as ``(C[b] W[b]')'``
    over blocks of ``rows`` rows of C: BLAS packs the whole of C for one (G, F) x (F, F) product,
    while (rows, F) x (F, G) blocks skip that copy (1.6x faster at F = 1,000, G = 10 here)."""
    Bc, G, F = W.shape
    out = np.empty((Bc, F, G))
    for c, w, o in zip(C, W, out):
        wt = np.ascontiguousarray(w.T)
        for i in range(0, F, rows):
            np.matmul(c[i:i + rows], wt, out=o[i:i + rows])
    return np.swapaxes(out, 1, 2)


def _low_rank(P: np.ndarray, A: np.ndarray, Q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``P' diag(A) Q x`` for component-major P (B, k, R), Q (B, k, M), A (B, k), x (B, M)."""
    return (np.swapaxes(P, 1, 2) @ (A * (Q @ x[..., None])[..., 0])[..., None])[..., 0]


def _deflated(S: np.ndarray, P: np.ndarray, Q: np.ndarray, A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(S - P' diag(A) Q) x`` for S (B, R, M), P (B, k, R), Q (B, k, M), A (B, k), x (B, M): the
    deflated cross-products applied in one pass over ``S`` (transpose: swap S and P with Q)."""
    return _each(S, x) - _low_rank(P, A, Q, x)


def pls_fit(C: np.ndarray, S: np.ndarray, yy: np.ndarray, n_components: int = 25, max_iter: int = 500,
            tol: float = 1e-6, downdate: np.ndarray | None = None) -> PLSFit:
    """PLS fits of ``Bc x G`` training sets from their centred moments, float64.

    ``C`` (Bc, F, F) is shared by the G fits of its row: ``S`` (Bc, G, F, N), ``yy`` (Bc, G, N) the
    diagonal of ``Yc'Yc``; the training ``C`` of fit (b, g) is ``C[b] - H' H`` with
    ``H = downdate[b, g]`` (m, F) when given. Returns rotations (Bc, G, F, K) and y loadings
    (Bc, G, N, K).

    A fit stops (its remaining components are zero) when its target residual is constant, as
    scikit-learn's does, or when its deflated ``X'Y`` (``|S_k|^2``) or its x scores (``w' C_k w``)
    have fallen to the rounding level of the moments, ``(F + N) eps`` times ``|S|^2`` or the trace
    of the given ``C``: the features' rank is spent, and the deflated moments hold nothing but
    rounding (on samples, scikit-learn would go on fitting that noise).
    """
    Bc, Gn, F, N = S.shape
    if n_components > F:
        raise ValueError(f"n_components={n_components} exceeds the {F} source features")
    # S_k = S - P diag(A) Q' is never formed; S is read as (N, F) rows, whose matrix-vector products
    # (both ways) run faster than over its (F, N) rows
    St = np.ascontiguousarray(np.swapaxes(np.asarray(S, dtype=np.float64).reshape(Bc * Gn, F, N), 1, 2))
    S = np.swapaxes(St, 1, 2)  # (B, F, N) view of the same rows
    yy = np.array(yy, dtype=np.float64).reshape(Bc * Gn, N)
    H = None if downdate is None else downdate.reshape(Bc * Gn, -1, F)
    B = Bc * Gn

    def apply_c(w: np.ndarray) -> np.ndarray:
        if Gn == 1:  # one fit per C: the symmetric product reads one triangle of it
            out = np.stack([dsymv(1.0, c.T, v, lower=0) for c, v in zip(C, w)])
        else:  # one pass over C for its Gn fits
            out = _symmetric_products(C, w.reshape(Bc, Gn, F)).reshape(B, F)
        if H is not None:  # fit by fit, so that H[b] is read back from cache by its second product
            out -= np.stack([np.dot(np.dot(h, v), h) for h, v in zip(H, w)])
        return out

    noise = (F + N) * EPS  # rounding left in deflated moments, relative to the moments given
    x_size = np.repeat(np.trace(C, axis1=-2, axis2=-1), Gn)  # C w is rounded relative to C, downdated or not
    G = St @ S
    y_size = np.trace(G, axis1=1, axis2=2)  # |S|_F^2
    W, P = np.zeros((B, n_components, F)), np.zeros((B, n_components, F))  # component-major
    Q, A = np.zeros((B, n_components, N)), np.zeros((B, n_components))
    active = np.ones(B, dtype=bool)
    stats = PowerStats()
    for k in range(n_components):
        start = _first_live_column(yy)
        spent = active & (np.trace(G, axis1=1, axis2=2) <= noise * y_size)
        stats.rank_stops += int(spent.sum())
        active &= (start >= 0) & ~spent
        if not active.any():
            break
        G[~active] = np.eye(N)  # stopped fits: a start the power method leaves at once
        Pk, Qk, Ak = P[:, :k], Q[:, :k], A[:, :k]
        a = _power_method(G, np.maximum(start, 0), max_iter, tol, stats, k)
        w = _deflated(S, Pk, Qk, Ak, a)  # S_k a
        top = np.abs(w).argmax(axis=1)
        scale = np.sign(w[np.arange(B), top]) / (np.linalg.norm(w, axis=1) + EPS)
        w *= scale[:, None]
        Cw = apply_c(w) - _low_rank(Pk, Ak, Pk, w)
        a_w = (w * Cw).sum(1)
        spent = active & (a_w <= noise * x_size)
        stats.rank_stops += int(spent.sum())
        active &= ~spent
        keep = active
        safe = np.where(keep, a_w, 1.0)
        u = Cw * keep[:, None]  # a p
        Sw = (G @ a[..., None])[..., 0] * scale[:, None]  # S_k' w = S_k' S_k a scale = G_k a scale
        c = Sw / safe[:, None] * keep[:, None]
        z = _deflated(St, Qk, Pk, Ak, u)  # S_k' (a p)
        half = 0.5 * (u * u).sum(1)[:, None] * c - z  # G_(k+1) = G_k + c half' + half c'
        G += np.stack([c, half], 2) @ np.stack([half, c], 1)
        yy -= a_w[:, None] * keep[:, None] * c**2
        W[:, k], P[:, k], Q[:, k], A[:, k] = w * keep[:, None], u / safe[:, None], c, a_w * keep
    W = np.swapaxes(W, 1, 2)
    rotations = W @ np.linalg.pinv(P @ W)
    return PLSFit(rotations.reshape(Bc, Gn, F, -1), np.swapaxes(Q, 1, 2).reshape(Bc, Gn, N, -1), stats)


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


def check_ridge_alpha(alpha: float) -> None:
    """ValueError unless the ridge penalty ``alpha`` is >= 0."""
    if alpha < 0:
        raise ValueError(f"ridge alpha must be >= 0, got {alpha}")


def ridge_coefficients(C: np.ndarray, S: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Ridge coefficients ``(C + alpha I)^-1 S`` (..., F, N), as scikit-learn's ``Ridge``."""
    check_ridge_alpha(alpha)
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


def projected_r(scores: np.ndarray, loading: np.ndarray | None, target: np.ndarray) -> np.ndarray:
    """Pearson r (bin, neuroid) over images between predictions ``scores @ loading'`` and
    ``target``: scores (image, bin, K), loading (N, K) or None (the scores are the predictions),
    target (image, bin, N). Constants added to the predictions leave r unchanged, and the
    (image, bin, N) predictions are never formed: their centred cross-products with the target
    and their squares follow from the scores' K x N and K x K ones.

    A prediction that is the same for every image up to rounding (a bin where the model's
    activity does not depend on the image, e.g. before stimulus onset) explains none of the
    target's variance: its r is 0. A constant target gives NaN."""
    if loading is None:
        return pearson_columns(scores.transpose(1, 0, 2), target.transpose(1, 0, 2))
    s = np.subtract(scores, scores.mean(axis=0), order="C")  # (image, bin, K) rows for BLAS
    y = np.subtract(target, target.mean(axis=0), order="C")
    st = s.transpose(1, 2, 0)  # (bin, K, image)
    cross, gram = st @ y.transpose(1, 0, 2), st @ s.transpose(1, 0, 2)  # (bin, K, N), (bin, K, K)
    cov = np.einsum("nk,tkn->tn", loading, cross)
    var_pred = ((loading @ gram) * loading).sum(axis=-1)
    var_target = np.einsum("itn,itn->tn", y, y)
    # rounding of a prediction: EPS times its size, bounded by the scores' size and |loading|_1
    rounding = len(scores) * (8 * EPS * np.abs(scores).max(axis=0).max(axis=-1)[:, None] * np.abs(loading).sum(-1)) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(var_pred * var_target)
    r[(var_pred <= rounding) & (var_target > 0)] = 0.0
    return np.clip(r, -1.0, 1.0)
