"""Cross-validated mappings from model activity to neural responses, time bin by time bin.

Two modes, both fitted on each split's training stimuli and scored on its test stimuli by the
Pearson r of every neuroid in every time bin:

* ``spantime`` (Brain-Score's ``spantime_pls``): one mapping whose samples are all
  (stimulus, time bin) pairs, i.e. weights shared across time;
* ``perbin``: a separate mapping per time bin, all bins solved together as a batch.

The work is done on second moments (``X'X``, ``X'Y``) accumulated in float64, one time bin at a
time: a split's training moments are the moments of all stimuli minus those of the held-out
ones, so each split only touches its test stimuli. Source moments are reused across targets,
which makes controls (shuffled targets, permutation nulls) cheap.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, ShapeError
from .linear import pearson_columns, pls_coefficients, ridge_coefficients
from .splits import Splits

MODES = ("spantime", "perbin")
REGRESSIONS = ("pls", "ridge")


@dataclass
class Moments:
    """Sums over samples: count ``n``, ``sx`` (.., F), ``xx`` (.., F, F) and the target parts."""

    n: float
    sx: np.ndarray
    xx: np.ndarray
    sy: np.ndarray | None = None
    xy: np.ndarray | None = None
    yy: np.ndarray | None = None

    def __sub__(self, other: "Moments") -> "Moments":
        parts = [getattr(self, k) - getattr(other, k) if getattr(self, k) is not None else None
                 for k in ("sy", "xy", "yy")]
        return Moments(self.n - other.n, self.sx - other.sx, self.xx - other.xx, *parts)

    def centred(self):
        """``(x_mean, y_mean, C, S, YY)``: the centred cross-products of these samples."""
        mx, my = self.sx / self.n, self.sy / self.n
        C = self.xx - self.n * mx[..., :, None] * mx[..., None, :]
        S = self.xy - self.n * mx[..., :, None] * my[..., None, :]
        YY = self.yy - self.n * my[..., :, None] * my[..., None, :]
        return mx, my, C, S, YY


class CrossValidatedMapping:
    """Scores targets against one source activity array under fixed cross-validation splits.

    ``source``: (presentation, model_bin, feature) array (kept as given, e.g. float32);
    ``splits``: :class:`~neurovision.brain.splits.Splits` over the presentation axis.
    Targets are (presentation, time_bin, neuroid) arrays aligned with ``source``'s
    presentations; ``bins`` maps each target time bin to a source model bin.
    """

    def __init__(self, source: np.ndarray, splits: Splits, mode: str = "spantime",
                 regression: str = "pls", n_components: int = 25, alpha: float = 1.0,
                 cache_bytes: float = 1e9, batch_bytes: float = 2.5e8):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if regression not in REGRESSIONS:
            raise ValueError(f"regression must be one of {REGRESSIONS}, got {regression!r}")
        source = np.asarray(source)
        if source.ndim != 3:
            raise ShapeError(f"source must be (presentation, time_bin, feature), got {source.shape}")
        if not np.isfinite(source).all():
            raise DataError("model activity contains NaN/Inf; the model diverged on these stimuli")
        if regression == "pls" and source.shape[2] < n_components:
            raise ShapeError(
                f"PLS with {n_components} components needs >= {n_components} model features, "
                f"the source has {source.shape[2]}; lower n_components or use ridge"
            )
        self.source, self.splits, self.mode = source, splits, mode
        self.regression, self.n_components, self.alpha = regression, n_components, alpha
        self._offset = source.mean(axis=(0, 1), dtype=np.float64)
        self._cache: dict = {}
        self._cache_bytes, self._batch_bytes = cache_bytes, batch_bytes

    # -- moments ------------------------------------------------------------------------------
    def _block(self, rows, b) -> np.ndarray:
        return self.source[rows, b].astype(np.float64) - self._offset

    def _reduce(self, values: list) -> np.ndarray:
        return np.sum(values, axis=0) if self.mode == "spantime" else np.stack(values)

    def _moments(self, rows, bins) -> Moments:
        """Source moments of ``rows`` (summed over bins in spantime mode, per bin in perbin)."""
        sx, xx = [], []
        for b in bins:
            X = self._block(rows, b)
            sx.append(X.sum(0))
            xx.append(X.T @ X)
        n = len(rows) * (len(bins) if self.mode == "spantime" else 1)
        return Moments(float(n), self._reduce(sx), self._reduce(xx))

    def _source_moments(self, key, rows, bins) -> Moments:
        """Source-only moments, cached when they fit in the cache budget."""
        cached = self._cache.get((key, tuple(bins)))
        if cached is not None:
            return cached
        m = self._moments(rows, bins)
        if m.xx.nbytes * (len(self._cache) + 1) <= self._cache_bytes:
            self._cache[(key, tuple(bins))] = m
        return m

    def _with_target(self, source_m: Moments, rows, bins, target) -> Moments:
        sy, xy, yy = [], [], []
        for t, b in enumerate(bins):
            X, Y = self._block(rows, b), target[rows, t]
            sy.append(Y.sum(0))
            xy.append(X.T @ Y)
            yy.append(Y.T @ Y)
        return Moments(source_m.n, source_m.sx, source_m.xx,
                       self._reduce(sy), self._reduce(xy), self._reduce(yy))

    # -- fitting ------------------------------------------------------------------------------
    def _fit_batch(self, moments: list[Moments]) -> list[tuple]:
        """``(x_mean, y_mean, coef)`` of each training set, solved as one batch."""
        mx, my, C, S, YY = (np.stack(parts) for parts in zip(*(m.centred() for m in moments)))
        if self.regression == "pls":
            coef = pls_coefficients(C, S, YY, self.n_components)
        else:
            coef = ridge_coefficients(C, S, self.alpha)
        return list(zip(mx, my, coef))

    def _test_r(self, fit, rows, bins, target) -> np.ndarray:
        mx, my, coef = fit
        r = np.empty((target.shape[2], len(bins)))
        for t, b in enumerate(bins):
            i = t if self.mode == "perbin" else ...
            pred = (self._block(rows, b) - mx[i]) @ coef[i] + my[i]
            r[:, t] = pearson_columns(pred, target[rows, t])
        return r

    def _evaluate(self, jobs, bins, target) -> np.ndarray:
        """Test r of ``jobs`` = iterable of (training Moments, test rows), fitted in batches
        of at most ``batch_bytes`` of moments: array (job, neuroid, time_bin)."""
        out, pending = [], []

        def flush():
            fits = self._fit_batch([m for m, _ in pending])
            out.extend(self._test_r(fit, rows, bins, target) for fit, (_, rows) in zip(fits, pending))
            pending.clear()

        for job in jobs:
            pending.append(job)
            if sum(m.xx.nbytes for m, _ in pending) >= self._batch_bytes:
                flush()
        if pending:
            flush()
        return np.stack(out)

    def _held(self, key, rows, bins, target) -> Moments:
        return self._with_target(self._source_moments(key, rows, bins), rows, bins, target)

    # -- public -------------------------------------------------------------------------------
    def check_target(self, target: np.ndarray, bins) -> np.ndarray:
        target = np.asarray(target, dtype=np.float64)
        if target.ndim != 3 or target.shape[0] != self.source.shape[0]:
            raise ShapeError(
                f"target must be (presentation={self.source.shape[0]}, time_bin, neuroid), "
                f"got {target.shape}"
            )
        if target.shape[1] != len(bins):
            raise ShapeError(f"{len(bins)} source bins given for {target.shape[1]} target bins")
        if not np.isfinite(target).all():
            raise DataError(
                "neural data contain NaN/Inf after averaging repetitions; drop the affected "
                "neuroids or stimuli (see nan_policy)"
            )
        if min(bins) < 0 or max(bins) >= self.source.shape[1]:
            raise ShapeError(f"source bins {list(bins)} outside 0..{self.source.shape[1] - 1}")
        return target

    def correlations(self, target: np.ndarray, bins) -> np.ndarray:
        """Test-set Pearson r per split, neuroid and time bin: array (split, neuroid, time_bin)."""
        bins = [int(b) for b in bins]
        target = self.check_target(target, bins)
        everyone = np.arange(self.source.shape[0])
        total = self._held("all", everyone, bins, target)
        jobs = ((total - self._held(("out", k), np.setdiff1d(everyone, train), bins, target), test)
                for k, (train, test) in enumerate(self.splits))
        return self._evaluate(jobs, bins, target)

    def inner_correlations(self, target: np.ndarray, bins, folds: list[Splits]) -> np.ndarray:
        """Pearson r (split, fold, neuroid, time_bin) of inner folds inside each outer split.

        ``folds[k]`` splits outer split k's training stimuli; only those are used, so choices
        made from these scores (e.g. the temporal shift) never see the outer test stimuli.
        """
        bins = [int(b) for b in bins]
        target = self.check_target(target, bins)
        everyone = np.arange(self.source.shape[0])
        total = self._held("all", everyone, bins, target)

        def jobs():
            for k, train in enumerate(self.splits.train):
                inner = total - self._held(("out", k), np.setdiff1d(everyone, train), bins, target)
                for j, (inner_train, inner_test) in enumerate(folds[k]):
                    held = self._held(("in", k, j), np.setdiff1d(train, inner_train), bins, target)
                    yield inner - held, inner_test

        r = self._evaluate(jobs(), bins, target)
        return r.reshape(len(self.splits), -1, *r.shape[1:])


def aggregate(r: np.ndarray) -> np.ndarray:
    """Brain-Score's aggregate of (split, neuroid, time_bin) r: median over neuroids, mean over splits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
        return np.nanmean(np.nanmedian(r, axis=1), axis=0)
