"""What the fixed points of a network form: isolated points, a line, a ring or a higher manifold.

:func:`characterise_attractor` takes fixed (and slow) points, by default only the stable and
marginal ones of a :class:`~neurovision.analysis.fixed_points.FixedPointResult`, and decides

* ``discrete``: few points, separated by gaps comparable to the spread of the set (or fewer
  than ``min_continuum`` points);
* a continuum otherwise, whose local dimension is estimated by PCA of each point's
  neighbourhood; a one-dimensional continuum is a ``ring`` or a ``line`` by its topology:
  the graph linking points closer than a scale ``s`` (twice the longest edge of their
  minimum spanning tree) stays connected when any ball of radius ``s`` is cut out of it for a
  ring (a circle minus an arc is an arc), and falls apart for a cut inside a line (an
  interval minus an inner interval is two intervals: no link is long enough to cross);
* ``manifold`` for a continuum of dimension 2 or more, ``none`` without points.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial.distance import cdist

from ..errors import ShapeError
from .fixed_points import FixedPointResult


@dataclass
class AttractorReport:
    """``kind`` and the evidence for it; ``projection``: points on their top 3 PCs."""

    kind: str
    n_points: int
    dimension: int
    explained_variance_ratio: np.ndarray
    details: dict = field(default_factory=dict)
    projection: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_series(self) -> pd.Series:
        """Kind, counts and details as one row (for tables across models)."""
        evr = {f"pc{i + 1}_variance": float(v) for i, v in enumerate(self.explained_variance_ratio[:3])}
        return pd.Series({"kind": self.kind, "n_points": self.n_points, "dimension": self.dimension,
                          **evr, **self.details})


def attractor_points(result, stable_only: bool = True) -> np.ndarray:
    """``(P, n)`` points of a search (stable/marginal ones if ``stable_only``) or of an array."""
    if isinstance(result, FixedPointResult):
        mask = np.ones(len(result.points), dtype=bool)
        if stable_only and "stability" in result.table:
            mask = result.table["stability"].isin(["stable", "marginal"]).to_numpy()
        return result.points[mask]
    points = np.asarray(result, dtype=np.float64)
    if points.ndim != 2:
        raise ShapeError(f"points must be an array (P, n), got shape {points.shape}")
    return points


def _neighbour_graph(points: np.ndarray, factor: float) -> tuple[csr_matrix, float]:
    """Graph joining points closer than ``factor`` times the longest edge of their minimum
    spanning tree (the smallest scale at which they are connected); returns it and the scale.
    """
    dist = cdist(points, points)
    scale = factor * float(minimum_spanning_tree(csr_matrix(dist)).max())
    adj = (dist <= scale) & ~np.eye(len(points), dtype=bool)
    return csr_matrix(adj.astype(float)), scale


def _local_dimension(points: np.ndarray, k: int, threshold: float) -> int:
    """Median over points of the number of local PCs needed to explain ``threshold`` variance."""
    dist = cdist(points, points)
    k = min(k, len(points) - 1)
    dims = []
    for i in range(len(points)):
        hood = points[np.argsort(dist[i])[: k + 1]]
        sv = np.linalg.svd(hood - hood.mean(0), compute_uv=False) ** 2
        frac = np.cumsum(sv) / max(sv.sum(), 1e-300)
        dims.append(int(np.searchsorted(frac, threshold) + 1))
    return int(np.median(dims))


def _splits_when_cut(points: np.ndarray, adj: csr_matrix, radius: float) -> int:
    """Number of cut centres whose removal (ball of ``radius``) disconnects the graph."""
    dist = cdist(points, points)
    splits = 0
    for i in range(len(points)):
        keep = dist[i] > radius
        if keep.sum() < 2:
            continue
        n_parts, _ = connected_components(adj[keep][:, keep], directed=False)
        splits += int(n_parts > 1)
    return splits


def _fit_circle(xy: np.ndarray) -> tuple[float, float]:
    """Least-squares circle through 2-D points (Kasa fit): radius and the coefficient of
    variation of the points' distances to its centre (0 for an exact circle).
    """
    design = np.c_[xy, np.ones(len(xy))]
    coef, *_ = np.linalg.lstsq(design, -(xy**2).sum(1), rcond=None)
    centre = -0.5 * coef[:2]
    dist = np.linalg.norm(xy - centre, axis=1)
    return float(dist.mean()), float(dist.std() / max(dist.mean(), 1e-300))


def characterise_attractor(
    result,
    stable_only: bool = True,
    min_continuum: int = 8,
    gap_ratio: float = 0.5,
    k_neighbors: int = 6,
    local_variance: float = 0.9,
    link_factor: float = 2.0,
) -> AttractorReport:
    """Classify the set of fixed points in ``result`` (see the module docstring).

    ``gap_ratio``: a set is ``discrete`` when the median nearest-neighbour distance exceeds
    this fraction of its RMS spread; ``local_variance``: variance the ``k_neighbors`` local PCs
    must explain; ``link_factor``: the neighbour graph links points closer than this many
    times the longest edge of their minimum spanning tree (2 bridges a ring's largest gap
    when it is at most twice the second largest).
    """
    points = attractor_points(result, stable_only)
    n = len(points)
    if n == 0:
        return AttractorReport("none", 0, 0, np.zeros(0))
    centred = points - points.mean(0)
    sv = np.linalg.svd(centred, compute_uv=False) ** 2 if n > 1 else np.zeros(1)
    evr = sv / sv.sum() if sv.sum() > 0 else np.zeros_like(sv)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ vt[: min(3, len(vt))].T
    projection = pd.DataFrame(proj, columns=[f"pc{i + 1}" for i in range(proj.shape[1])])
    spread = float(np.sqrt((centred**2).sum(1).mean()))
    if n == 1 or spread <= 1e-12:
        return AttractorReport("discrete", n, 0, evr, {"n_clusters": 1}, projection)
    dist = cdist(points, points)
    np.fill_diagonal(dist, np.inf)
    nearest = float(np.median(dist.min(1)))
    if n < min_continuum or nearest > gap_ratio * spread:
        n_clusters, _ = connected_components(csr_matrix(dist <= gap_ratio * spread), directed=False)
        return AttractorReport("discrete", n, 0, evr, {"n_clusters": int(n_clusters),
                               "nearest_over_spread": nearest / spread}, projection)
    dim = _local_dimension(points, k_neighbors, local_variance)
    adj, link = _neighbour_graph(points, link_factor)
    details = {"local_dimension": dim, "link_scale": link, "spread": spread}
    if dim >= 2:
        return AttractorReport("manifold", n, dim, evr, details, projection)
    splits = _splits_when_cut(points, adj, 1.01 * link)
    details["cuts_that_split"] = splits
    if splits == 0:
        radius, deviation = _fit_circle(proj[:, :2])
        details.update(radius=radius, radius_cv=deviation)
        return AttractorReport("ring", n, 1, evr, details, projection)
    ends = np.unravel_index(np.argmax(np.where(np.isfinite(dist), dist, -1)), dist.shape)
    details["length"] = float(dist[ends])
    return AttractorReport("line", n, 1, evr, details, projection)
