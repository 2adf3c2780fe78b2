"""Comparing the activity of different networks on the same conditions.

A representation is a matrix ``(samples, units)``: rows are the same conditions and time points
in every network (a 3-D array ``(conditions, time, units)`` or an activity DataArray
``presentation x neuroid x time_bin`` is flattened to that), columns the network's units, whose
number may differ between networks.

* :func:`cca`: canonical correlation analysis (SVD of the product of orthonormal bases of the
  two centred column spaces, Bjorck & Golub 1973), canonical correlations and the aligned
  trajectories (CordsNet paper Fig. 1C).
* :func:`shape_distance`: the generalised shape metrics of Williams et al. (2021). Both
  matrices are centred and partially whitened, ``phi_a(X) = X (a I + (1 - a) (X^T X)^-1/2)``
  (rescaled to keep the total variance), then optimally rotated onto each other; the
  ``angular`` distance is ``arccos(||phi(X)^T phi(Y)||_* / (||phi(X)|| ||phi(Y)||))`` and the
  ``euclidean`` (Procrustes) distance ``min_Q ||phi(X) - phi(Y) Q||_F``. ``a = 1``: rotations
  only (Procrustes); ``a = 0``: any invertible linear map (CCA; the angular distance is then
  ``arccos`` of the mean canonical correlation). Both are metrics (symmetric, zero between a
  network and a rotated copy of it, triangle inequality).
* :func:`distance_matrix` and :func:`embed` (classical multidimensional scaling).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ShapeError
from .measures import as_matrix

METRICS = ("cca", "angular", "procrustes")


def representation(x) -> np.ndarray:
    """``(samples, units)`` float64 matrix of a 2-D/3-D array (units last) or an activity
    DataArray ``presentation x neuroid x time_bin`` (rows: presentation-major, then time)."""
    if isinstance(x, xr.DataArray):
        activity_dims = ("presentation", "time_bin", "neuroid")
        x = x.transpose(*activity_dims).values if set(x.dims) == set(activity_dims) else x.values
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr.reshape(-1, arr.shape[-1])
    return as_matrix(arr, "representation")


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    a, b = representation(x), representation(y)
    if a.shape[0] != b.shape[0]:
        raise ShapeError(
            f"the representations have {a.shape[0]} and {b.shape[0]} samples; they must hold the "
            "same conditions and time points in the same order (average over trials first)"
        )
    return a - a.mean(0), b - b.mean(0)


def principal_basis(x: np.ndarray, n_components: int | None = None, rtol: float = 1e-10):
    """Left singular vectors ``U`` ``(samples, d)`` and singular values of centred ``x``, keeping
    ``n_components`` (default: all above ``rtol`` times the largest, i.e. the numerical rank).
    """
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    rank = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    d = rank if n_components is None else min(int(n_components), rank)
    if d < 1:
        raise ShapeError("the representation does not vary across samples (rank 0)")
    return u[:, :d], s[:d]


@dataclass
class CCAResult:
    """Canonical ``correlations`` (descending) and the canonical variates ``x_scores``,
    ``y_scores`` ``(samples, d)``, each with unit norm columns, pairwise aligned."""

    correlations: np.ndarray
    x_scores: np.ndarray = field(repr=False)
    y_scores: np.ndarray = field(repr=False)

    @property
    def mean_correlation(self) -> float:
        return float(np.mean(self.correlations))


def cca(x, y, n_components: int | None = None) -> CCAResult:
    """Canonical correlation analysis of ``x`` and ``y`` after reducing each to its top
    ``n_components`` principal components (default: its full numerical rank).
    """
    a, b = _pair(x, y)
    qa, _ = principal_basis(a, n_components)
    qb, _ = principal_basis(b, n_components)
    u, rho, vt = np.linalg.svd(qa.T @ qb, full_matrices=False)
    d = min(qa.shape[1], qb.shape[1])
    return CCAResult(np.clip(rho[:d], 0.0, 1.0), qa @ u[:, :d], qb @ vt[:d].T)


def partial_whiten(x: np.ndarray, alpha: float, eig_floor: float = 1e-12) -> np.ndarray:
    """``x (alpha I + (1 - alpha) (x^T x)^-1/2)`` rescaled to keep ``||x||_F`` (x centred)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1] (1: rotations only, 0: CCA), got {alpha}")
    if alpha == 1.0:
        return x
    lam, vec = np.linalg.eigh(x.T @ x)
    lam = np.maximum(lam, eig_floor * max(lam.max(), 1e-300))
    scale = alpha + (1 - alpha) / np.sqrt(lam)
    out = x @ (vec * scale) @ vec.T
    norm = np.linalg.norm(out)
    return out * (np.linalg.norm(x) / norm) if norm > 0 else out


def _common_width(a: np.ndarray, b: np.ndarray, n_components: int | None, alpha: float):
    """Reduce both to their top ``n_components`` PCs, or zero-pad the narrower one."""
    if n_components is not None:
        ua, sa = principal_basis(a, n_components)
        ub, sb = principal_basis(b, n_components)
        d = min(len(sa), len(sb))
        return ua[:, :d] * sa[:d], ub[:, :d] * sb[:d]
    if a.shape[1] == b.shape[1]:
        return a, b
    if alpha == 0.0:
        raise ShapeError(
            f"the representations have {a.shape[1]} and {b.shape[1]} units; with alpha = 0 give "
            "n_components (a common number of principal components) instead of zero-padding"
        )
    width = max(a.shape[1], b.shape[1])
    pad = [np.pad(m, ((0, 0), (0, width - m.shape[1]))) for m in (a, b)]
    return pad[0], pad[1]


def shape_distance(x, y, alpha: float = 1.0, method: str = "angular",
                   n_components: int | None = None) -> float:
    """Generalised shape distance (Williams et al. 2021) between ``x`` and ``y``.

    ``method``: ``angular`` (radians, in [0, pi/2] after centring) or ``euclidean``
    (Procrustes, in the units of the activity). Representations with different numbers of
    units are zero-padded unless ``n_components`` reduces both to that many PCs.
    """
    if method not in ("angular", "euclidean"):
        raise ValueError(f"method={method!r}; choose 'angular' or 'euclidean'")
    a, b = _common_width(*_pair(x, y), n_components, alpha)
    a, b = partial_whiten(a, alpha), partial_whiten(b, alpha)
    u, sv, vt = np.linalg.svd(a.T @ b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if method == "angular":
        if na == 0 or nb == 0:
            raise ShapeError("a representation does not vary; the angular distance is undefined")
        return float(np.arccos(np.clip(sv.sum() / (na * nb), -1.0, 1.0)))
    return float(np.linalg.norm(a - b @ (vt.T @ u.T)))  # b rotated onto a: no cancellation


def pair_distance(x, y, metric: str, alpha: float = 1.0, n_components: int | None = None) -> float:
    """``cca``: 1 - mean canonical correlation; ``angular``/``procrustes``: shape distances."""
    if metric == "cca":
        return 1.0 - cca(x, y, n_components).mean_correlation
    if metric == "angular":
        return shape_distance(x, y, alpha, "angular", n_components)
    if metric == "procrustes":
        return shape_distance(x, y, alpha, "euclidean", n_components)
    raise ValueError(f"metric={metric!r}; choose one of {METRICS}")


def distance_matrix(representations: Mapping[str, object], metric: str = "angular",
                    alpha: float = 1.0, n_components: int | None = None,
                    labels: pd.DataFrame | None = None) -> xr.DataArray:
    """Pairwise distances ``network x other`` between named representations.

    ``labels``: optional table indexed by name (e.g. ``architecture``, ``task``) whose columns
    become coordinates of both dimensions.
    """
    names = list(representations)
    if len(names) < 2:
        raise ShapeError("need at least two representations to compare")
    mats = {k: representation(v) for k, v in representations.items()}
    dist = np.zeros((len(names), len(names)))
    for i, p in enumerate(names):
        for j in range(i + 1, len(names)):
            dist[i, j] = dist[j, i] = pair_distance(mats[p], mats[names[j]], metric, alpha, n_components)
    coords = {"network": ("network", names), "other": ("other", names)}
    if labels is not None:
        table = labels.reindex(names)
        for col in table.columns:
            coords[col] = ("network", table[col].to_numpy())
            coords[f"other_{col}"] = ("other", table[col].to_numpy())
    return xr.DataArray(dist, dims=("network", "other"), coords=coords, name=metric,
                        attrs={"metric": metric, "alpha": alpha,
                               "n_components": -1 if n_components is None else n_components})


def embed(distances: xr.DataArray, n_components: int = 2) -> pd.DataFrame:
    """Classical multidimensional scaling of a distance matrix: one row per network, columns
    ``dim1..`` plus the matrix's label coordinates. Negative eigenvalues (non-Euclidean parts)
    are dropped.
    """
    d = np.asarray(distances.values, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ShapeError(f"a distance matrix must be square, got shape {d.shape}")
    n = d.shape[0]
    centre = np.eye(n) - np.ones((n, n)) / n
    gram = -0.5 * centre @ (d**2) @ centre
    lam, vec = np.linalg.eigh(gram)
    order = np.argsort(lam)[::-1][:n_components]
    coords = vec[:, order] * np.sqrt(np.clip(lam[order], 0.0, None))
    table = pd.DataFrame(coords, columns=[f"dim{i + 1}" for i in range(coords.shape[1])],
                         index=pd.Index(distances["network"].values, name="network"))
    for name, coord in distances.coords.items():
        if coord.dims == ("network",) and name != "network":
            table[name] = coord.values
    return table
