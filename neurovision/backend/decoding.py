"""Where and when a task variable is decodable: cross-validated decoders per area and time bin.

For every area and time bin, the trial-by-unit activity ``X`` (rates averaged within the bin)
predicts a task variable ``y`` out of fold (stratified k-fold for categories, k-fold otherwise;
features z-scored on the training folds):

* ``ridge`` (default): ridge regression with its penalty chosen per target by leave-one-out
  cross-validation inside the training folds (``RidgeCV``); categories are one-vs-rest +-1
  targets read out by the largest prediction (a ridge classifier); continuous variables are
  scored by the out-of-fold R².
* ``logistic``: L2 logistic regression (categories only).

The null distribution comes from the same procedure on ``n_shuffles`` permutations of ``y``
(permuted once and shared by all bins and areas), so ``p = (1 + #{null >= score}) / (1 +
n_shuffles)``. With ridge, the true and the shuffled targets are fitted in one solve. A
variable's **onset** in an area is the start of the first bin from which ``p < alpha`` holds for
``persist`` consecutive bins.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from ..errors import DataError, UnknownIdError

MODELS = ("ridge", "logistic")
ALPHAS = np.logspace(-2, 4, 13)


def _targets(y: np.ndarray, categorical: bool):
    """(n, columns) regression targets: one-vs-rest +-1 per class, or y itself."""
    if not categorical:
        return y[:, None].astype(float), None
    classes = np.unique(y)
    return np.where(y[:, None] == classes[None, :], 1.0, -1.0), classes


def _score(pred: np.ndarray, y: np.ndarray, classes) -> float:
    if classes is None:
        return float(r2_score(y, pred))
    return float(np.mean(classes[pred.argmax(1)] == y))


def _folds(y: np.ndarray, categorical: bool, n_folds: int, seed: int):
    splitter = StratifiedKFold if categorical else KFold
    return list(splitter(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def decode_scores(x: np.ndarray, labels: np.ndarray, categorical: bool, model: str = "ridge",
                  n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold scores of ``x`` (n, units) for each column of ``labels`` (n, L): accuracy
    for categories, R² otherwise. Folds are built on the first column (the true labels)."""
    if model not in MODELS:
        raise UnknownIdError("decoder", model, list(MODELS))
    if model == "logistic" and not categorical:
        raise DataError("a logistic decoder needs a categorical variable; use model='ridge'")
    folds = _folds(labels[:, 0], categorical, n_folds, seed)
    if model == "logistic":
        scores = []
        for column in labels.T:
            pred = np.empty_like(column)
            for train, test in folds:
                scaler = StandardScaler().fit(x[train])
                fit = LogisticRegression(C=1.0, max_iter=500).fit(scaler.transform(x[train]), column[train])
                pred[test] = fit.predict(scaler.transform(x[test]))
            scores.append(float(np.mean(pred == column)))
        return np.array(scores)
    parts = [_targets(column, categorical) for column in labels.T]
    width = parts[0][0].shape[1]
    y_all = np.concatenate([p[0] for p in parts], 1)
    pred = np.empty_like(y_all)
    for train, test in folds:
        scaler = StandardScaler().fit(x[train])
        fit = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(scaler.transform(x[train]), y_all[train])
        pred[test] = fit.predict(scaler.transform(x[test])).reshape(len(test), -1)
    return np.array([_score(pred[:, j * width:(j + 1) * width], column, parts[j][1])
                     for j, column in enumerate(labels.T)])


def bin_rates(rates: np.ndarray, dt: float, bin_ms: float, start_step: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``rates`` (N, T, U) averaged in bins of ``bin_ms`` from step ``start_step``;
    returns (N, bins, U) and the bins' start times in ms from ``start_step``."""
    width = int(round(bin_ms / dt))
    if width < 1:
        raise DataError(f"bin_ms={bin_ms} is shorter than a step ({dt} ms)")
    usable = (rates.shape[1] - start_step) // width
    if usable < 1:
        raise DataError(f"no complete {bin_ms}-ms bin after step {start_step} of {rates.shape[1]}")
    cut = rates[:, start_step:start_step + usable * width]
    binned = cut.reshape(rates.shape[0], usable, width, rates.shape[2]).mean(2)
    return binned, np.arange(usable) * width * dt


def onset(p: np.ndarray, starts: np.ndarray, alpha: float = 0.01, persist: int = 2) -> float:
    """Start (ms) of the first bin from which ``p < alpha`` for ``persist`` bins; NaN if never."""
    hit = np.asarray(p) < alpha
    for i in range(len(hit) - persist + 1):
        if hit[i:i + persist].all():
            return float(starts[i])
    return float("nan")


def decode_over_time(rates: dict, y, dt: float, bin_ms: float = 40.0, start_step: int = 0,
                     categorical: bool | None = None, model: str = "ridge", n_folds: int = 5,
                     n_shuffles: int = 200, seed: int = 0) -> xr.Dataset:
    """Decode ``y`` (N,) from each area's ``rates`` {area: (N, T, U)} in every time bin.

    Returns a Dataset over ``area x time`` (bin start, ms from ``start_step``) with ``score``,
    ``null_mean``, ``null_95`` (95th percentile of the shuffled scores) and ``p_value``.
    ``categorical`` defaults to True for integer/bool/str labels.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) < 2 * n_folds:
        raise DataError(f"need one label per trial and at least {2 * n_folds} trials; got shape {y.shape}")
    categorical = y.dtype.kind in "biuOUS" if categorical is None else categorical
    if categorical and len(np.unique(y)) < 2:
        raise DataError("the labels take a single value; nothing to decode")
    rng = np.random.default_rng(seed)
    labels = np.stack([y] + [rng.permutation(y) for _ in range(n_shuffles)], 1)
    areas = list(rates)
    out = {name: [] for name in ("score", "null_mean", "null_95", "p_value")}
    starts = None
    for area in areas:
        r = np.asarray(rates[area], dtype=np.float64)
        if r.shape[0] != len(y):
            raise DataError(f"area {area!r} has {r.shape[0]} trials but there are {len(y)} labels")
        binned, starts = bin_rates(r, dt, bin_ms, start_step)
        rows = np.array([decode_scores(binned[:, b], labels, categorical, model, n_folds, seed)
                         for b in range(binned.shape[1])])
        true, null = rows[:, 0], rows[:, 1:]
        out["score"].append(true)
        out["null_mean"].append(null.mean(1) if n_shuffles else np.full(len(true), np.nan))
        out["null_95"].append(np.percentile(null, 95, axis=1) if n_shuffles else np.full(len(true), np.nan))
        out["p_value"].append((1 + (null >= true[:, None]).sum(1)) / (1 + n_shuffles))
    data = {k: (("area", "time"), np.array(v)) for k, v in out.items()}
    return xr.Dataset(data, coords={"area": areas, "time": starts},
                      attrs={"model": model, "n_folds": n_folds, "n_shuffles": n_shuffles,
                             "bin_ms": bin_ms, "categorical": int(categorical),
                             "metric": "accuracy" if categorical else "R2"})
