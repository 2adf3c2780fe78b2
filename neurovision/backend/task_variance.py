"""Normalised task variance and the clusters of units it defines (Yang et al. 2019, Fig. 2).

For unit ``i`` and task ``k``, the task variance ``TV_ik`` is the variance of the unit's rate
across the task's trials (conditions and noise) at each step from trial onset, averaged over the
steps that at least two trials reach (rate² units). The normalised task variance divides each
unit's row by its largest entry, ``TV_ik / max_k TV_ik`` in [0, 1]; units whose summed variance
is below ``min_variance`` (silent or task-blind) are left out. Units are clustered on their
normalised rows (k-means or Ward's agglomerative clustering), the number of clusters chosen by
the largest mean silhouette.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import silhouette_score

from ..errors import DataError, UnknownIdError

METHODS = ("kmeans", "agglomerative")


def task_variance(rates: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Variance across trials, averaged over steps: ``rates`` (N, T, U) -> (U,).

    ``lengths`` (N,) steps of each trial (later steps are padding and ignored).
    """
    rates = np.asarray(rates, dtype=np.float64)
    if rates.ndim != 3 or rates.shape[0] < 2:
        raise DataError(f"rates must be (trials >= 2, time, units); got {rates.shape}")
    if lengths is not None:
        valid = np.arange(rates.shape[1])[None, :] < np.asarray(lengths)[:, None]
        rates = np.where(valid[..., None], rates, np.nan)
    counts = np.sum(np.isfinite(rates[..., 0]), 0)
    steps = counts >= 2
    if not steps.any():
        raise DataError("no step is reached by two trials; cannot take a variance across trials")
    return np.nanvar(rates[:, steps], axis=0, ddof=1).mean(0)


def normalised_task_variance(tv: pd.DataFrame, min_variance: float = 1e-3) -> pd.DataFrame:
    """``tv`` (unit x task) divided by each unit's largest task variance; rows whose total is
    below ``min_variance`` dropped."""
    keep = tv.sum(1) >= min_variance
    if not keep.any():
        raise DataError(f"every unit has a summed task variance below min_variance={min_variance}")
    kept = tv[keep]
    return kept.div(kept.max(1), axis=0)


@dataclass
class TaskClusters:
    """``labels`` (unit -> cluster), ``silhouettes`` {k: mean silhouette}, ``k`` chosen,
    ``centroids`` (cluster x task mean normalised variance) and ``sizes``."""

    labels: pd.Series
    silhouettes: dict
    k: int
    centroids: pd.DataFrame
    sizes: pd.Series

    def summary(self) -> dict:
        return {"k": self.k, "silhouettes": {int(k): float(v) for k, v in self.silhouettes.items()},
                "sizes": {int(c): int(n) for c, n in self.sizes.items()},
                "centroids": {int(c): {t: float(v) for t, v in row.items()} for c, row in self.centroids.iterrows()}}


def _fit(x: np.ndarray, k: int, method: str, seed: int) -> np.ndarray:
    if method == "kmeans":
        return KMeans(k, n_init=20, random_state=seed).fit_predict(x)
    return AgglomerativeClustering(k, linkage="ward").fit_predict(x)


def cluster_units(norm_tv: pd.DataFrame, k_range=range(2, 13), method: str = "kmeans",
                  seed: int = 0) -> TaskClusters:
    """Cluster the rows of ``norm_tv`` for each k in ``k_range``; keep the best silhouette.
    Clusters are numbered by their size, largest first."""
    if method not in METHODS:
        raise UnknownIdError("clustering method", method, list(METHODS))
    x = norm_tv.to_numpy()
    ks = [k for k in k_range if 2 <= k < len(x)]
    if not ks:
        raise DataError(f"{len(x)} units cannot be split into clusters of k in {list(k_range)}")
    scores, fits = {}, {}
    for k in ks:
        labels = _fit(x, k, method, seed)
        if len(np.unique(labels)) < 2:
            continue
        scores[k], fits[k] = float(silhouette_score(x, labels)), labels
    best = max(scores, key=scores.get)
    order = pd.Series(fits[best]).value_counts().index  # largest cluster first
    relabel = {old: new for new, old in enumerate(order)}
    labels = pd.Series([relabel[v] for v in fits[best]], index=norm_tv.index, name="cluster")
    centroids = norm_tv.groupby(labels).mean()
    return TaskClusters(labels, scores, best, centroids, labels.value_counts().sort_index())


def network_task_variance(backend, env, n: int = 200, seed: int = 0, areas=None) -> pd.DataFrame:
    """Task variance (unit x task) of ``backend``'s units (``areas``, default all) on ``n`` new
    trials of each task of a :class:`~neurovision.backend.multitask.MultitaskEnv`; units are
    named ``<area>:<index>``."""
    from .evaluation import run_network
    from .multitask import task_trials

    areas = list(areas or backend.areas)
    columns = {}
    for k, name in enumerate(env.rule_names):
        trials = task_trials(env, k, n, seed + k)
        rates = run_network(backend, trials.inputs, record=True, seed=seed).rates
        lengths = trials.info["length"].to_numpy()
        columns[name] = np.concatenate([task_variance(rates[a].numpy(), lengths) for a in areas])
    index = [f"{a}:{i}" for a in areas for i in range(backend.specs[a].units)]
    return pd.DataFrame(columns, index=pd.Index(index, name="unit"))
