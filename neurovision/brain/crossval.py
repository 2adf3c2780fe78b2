"""Cross-validated mappings from model activity to neural responses, time bin by time bin.

Two modes, both fitted on each split's training stimuli and scored on its test stimuli by the
Pearson r of every neuroid in every time bin:

* ``spantime`` (Brain-Score's ``spantime_pls``): one mapping whose samples are all
  (stimulus, time bin) pairs, i.e. weights shared across time;
* ``perbin``: a separate mapping per time bin, all bins solved together in batches.

The work is done on second moments (``X'X``, ``X'Y``) accumulated in float64. A split's training
moments are the moments of all stimuli minus those of its held-out ones. In ``spantime`` mode
the held-out sets of all splits are built at once: stimuli are grouped by the set of splits that
hold them out (``atoms``); a large group's rows enter one symmetric rank-k update whose sum is
added to the totals it belongs to, and a small group's rows ride along in a larger group's update
or are multiplied into each of its totals, whichever costs least (``routes``), so nearly every
source row is multiplied once (the cost of forming ``X'X`` once); a split's total reaches the
all-stimuli total whole, once its own groups are in, so shared groups need no addition of their
own there. In ``perbin`` mode the
few held-out rows of a bin are never turned into a matrix: the PLS matrix-vector products
subtract them on the fly (:func:`~neurovision.brain.linear.pls_fit`'s ``downdate``), and batches
of bins run side by side, one per BLAS thread (their small products gain nothing from BLAS
threads). Source
moments are cached and reused across targets (controls, permutation nulls); PLS predictions use
the K-column rotations, not the F x N coefficients, and in ``spantime`` mode are never formed:
their test r follows from the K-column scores (:func:`~neurovision.brain.linear.projected_r`).
"""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dgemm, dger, dsyrk

from ..errors import DataError, ShapeError
from .linear import PowerStats, pearson_columns, pls_fit, projected_r, ridge_coefficients
from .ridge_fit import Predictor, dual_predictor, primal_predictor, side_by_side_fits, test_r
from .splits import Splits

MODES = ("spantime", "perbin")
# Cost of adding one moment matrix to another, in rank-(bins) updates of one stimulus (measured
# here at F = 1,000 and 29 bins: 0.35 on an idle memory bus, 2.5 under other jobs' load): a group
# shared by p totals is summed once and added p times when that is cheaper than multiplying its
# rows into each total.
ADD_COST = 1.0
REGRESSIONS = ("pls", "ridge")


@dataclass
class Moments:
    """Sums over samples: count ``n``, ``sx`` (F,), ``xx`` (F, F) and the
    target parts ``sy`` (N,), ``xy`` (F, N), ``yy`` (N, N)."""

    n: float
    sx: np.ndarray
    xx: np.ndarray
    sy: np.ndarray | None = None
    xy: np.ndarray | None = None
    yy: np.ndarray | None = None

    def trained(self, held: list["Moments"], C: np.ndarray):
        """Centred moments of these samples minus the ``held`` ones: ``C`` (F, F), a C-order
        array, receives ``Xc'Xc`` in place (no F x F temporaries); returns ``(x_mean, y_mean,
        Xc'Yc, Yc'Yc)``."""
        n = self.n - sum(m.n for m in held)
        mx = (self.sx - sum(m.sx for m in held)) / n
        my = (self.sy - sum(m.sy for m in held)) / n
        np.subtract(self.xx, held[0].xx, out=C)
        for m in held[1:]:
            C -= m.xx
        dger(-n, mx, mx, a=C.T, overwrite_a=1)  # C.T: the Fortran view BLAS updates in place
        S = self.xy - sum(m.xy for m in held) - n * np.outer(mx, my)
        YY = self.yy - sum(m.yy for m in held) - n * np.outer(my, my)
        return mx, my, S, YY


def atoms(sets: list[np.ndarray], n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group ``range(n)`` by membership in ``sets``: ``[(set indices, members)]``, one per pattern."""
    member = np.zeros((n, len(sets)), dtype=bool)
    for i, rows in enumerate(sets):
        member[rows, i] = True
    patterns, inverse = np.unique(member, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [(np.flatnonzero(p), np.flatnonzero(inverse == a)) for a, p in enumerate(patterns)]


def routes(groups: list[tuple[np.ndarray, np.ndarray]], add_cost: float = ADD_COST):
    """How the ``groups`` ``[(sets, members)]`` that share their last set k reach the totals of
    their sets, at the least cost counted in stimuli multiplied (an addition costs ``add_cost``).

    A group of m members in p sets can be multiplied into every total (m p); be a *carrier*,
    multiplied once into a scratch sum that is added to its p totals (m + add_cost p); or ride
    on a carrier whose sets q it contains, sharing its scratch (m (1 + p - q)). Returns
    ``(carriers, direct, later)``: ``{sets: [members, ...]}`` of each carrier and its riders,
    the members multiplied straight into total k, and ``[(set, members)]`` multiplied into
    totals that are already closed.
    """
    carriers: dict[tuple, list[np.ndarray]] = {}
    direct, later = [], []
    for pattern, members in sorted(groups, key=lambda g: len(g[0])):
        p, m = tuple(int(j) for j in pattern), len(members)
        options = [(m * (1 + len(p) - len(q)), 0, q) for q in carriers if set(q) <= set(p)]
        options += [(m + add_cost * len(p), 1, p), (m * len(p), 2, None)]
        _, _, via = min(options, key=lambda o: o[:2])
        if via is None:
            direct.append(members)
        else:
            carriers.setdefault(via, []).append(members)
        later += [(j, members) for j in p[:-1] if via is None or j not in via]
    return carriers, direct, later


def gather_rows(values: np.ndarray, images, bins, out: np.ndarray | None = None) -> np.ndarray:
    """Rows (image, bin) of ``values`` (image, bin, column) for ``images`` x ``bins``, image-major,
    as float64 (len*T, columns), written into the first columns of ``out`` when given."""
    images, bins = np.asarray(images), np.asarray(bins)
    columns, rows = values.shape[2], len(images) * len(bins)
    if out is None:
        out = np.empty((rows, columns))
    block = out[:rows, :columns]
    block.shape = (len(images), len(bins), columns)  # a view: raises rather than copying
    if len(bins) == 1:  # one bin: a small gather, converted at once
        block[:, 0] = values[images, bins[0]]
        return out[:rows]
    step = np.diff(bins)
    span = slice(bins[0], bins[-1] + 1) if len(bins) and (step == 1).all() else bins
    for i, image in enumerate(images):  # converted image by image: no float32 copy
        block[i] = values[image, span]
    return out[:rows]


def _symmetric(upper: np.ndarray, block: int = 256) -> np.ndarray:
    """Copies the upper triangle that ``dsyrk`` filled onto the lower one, in place; returns it."""
    for j in range(0, upper.shape[1], block):
        upper[j + block:, j:j + block] = upper[j:j + block, j + block:].T
        corner = upper[j:j + block, j:j + block]
        lower = np.tril_indices(len(corner), -1)
        corner[lower] = corner.T[lower]
    return upper


def _add_into(dsts: list, src: np.ndarray) -> None:
    """``dst += src`` for every ``dst`` in ``dsts``: whole arrays of one layout in one linear pass
    each (the lower triangle, which ``dsyrk`` leaves alone, is overwritten by :func:`_symmetric`)."""
    for dst in dsts:
        np.add(dst, src, out=dst)


class CrossValidatedMapping:
    """Scores targets against one source activity array under fixed cross-validation splits.

    ``source``: (presentation, model_bin, feature) array (kept as given, e.g. float32);
    ``splits``: :class:`~neurovision.brain.splits.Splits` over the presentation axis.
    Targets are (presentation, time_bin, neuroid) arrays aligned with ``source``'s
    presentations; ``bins`` maps each target time bin to a source model bin.
    ``power_stats`` accumulates how the PLS power iterations ended (see
    :class:`~neurovision.brain.linear.PowerStats`).
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
        self._cache: dict = {}
        self._gram_lock = threading.Lock()
        self._lock = threading.Lock()  # the cache and power_stats, shared by fits run side by side
        self._cache_bytes, self._batch_bytes = cache_bytes, batch_bytes
        self.power_stats = PowerStats()

    # -- rows -----------------------------------------------------------------------------------
    def _rows(self, images, bins, out: np.ndarray | None = None) -> np.ndarray:
        """Source rows (image, bin) of ``images`` x ``bins`` as float64 (len*T, F), written into
        ``out`` (rows, >= F columns; the first F are used) when given. Moments are sums of raw
        rows; centring happens on the float64 sums (:meth:`Moments.trained`)."""
        return gather_rows(self.source, images, bins, out)

    def _chunks(self, images, bins):
        """``images`` in pieces whose float64 rows stay within a quarter of ``batch_bytes``."""
        per = max(1, int(self._batch_bytes / 4 // (8 * len(bins) * (self.source.shape[2] + 1))))
        return [images[i:i + per] for i in range(0, len(images), per)]

    def _cache_put(self, key, value, nbytes: float) -> None:
        with self._lock:
            used = sum(b for _, b in self._cache.values())
            if used + nbytes <= self._cache_bytes:
                self._cache[key] = (value, nbytes)

    # -- spantime moments -----------------------------------------------------------------------
    def _set_moments(self, sets: list[np.ndarray], bins, target, total: bool) -> list[Moments]:
        """Moments over ``sets`` of stimuli (and over all stimuli first when ``total``), summed
        over bins, nearly every source row multiplied once (see the module docstring).

        Rows ``Z = [X | Y | 1]`` enter one ``dsyrk`` per group of stimuli, so ``Z'Z`` holds
        ``X'X``, ``X'Y``, ``Y'Y`` and both sums; with the source part cached only ``X'[Y | 1]``
        and ``Y'Y`` are formed. Sets are closed in order: set k's total receives the groups
        whose last set is k, is then added to the all-stimuli total (when ``total``), and only
        after that receives, like every closed total, the groups of later sets that it shares.
        """
        F, T, N = self.source.shape[2], len(bins), target.shape[2]
        key = ("sets", tuple(bins), total, tuple(s.tobytes() for s in sets))
        cached = self._cache.get(key)
        count = len(sets) + total
        D = N + 1 if cached else F + N + 1  # columns accumulated
        stacked = np.zeros((count, D, F + N + 1))  # acc[i] = stacked[i].T: Fortran (F + N + 1, D)
        acc = [a.T for a in stacked]
        groups = atoms(sets, len(self.source))
        scratch = np.zeros(acc[0].shape, order="F")
        buffer = None

        def accumulate(members, direct: np.ndarray) -> None:
            nonlocal buffer
            for i, part in enumerate(self._chunks(members, bins)):
                rows = len(part) * T
                if buffer is None or len(buffer) < rows:
                    buffer = np.empty((rows, F + N + 1))
                Z = self._rows(part, bins, buffer)
                gather_rows(target, part, range(T), Z[:, F:F + N])
                Z[:, -1] = 1.0
                beta = 1.0 if direct is not scratch or i else 0.0
                if cached:
                    direct[:, :] = Z.T @ Z[:, F:] + beta * direct
                else:
                    dsyrk(1.0, Z.T, beta=beta, c=direct, trans=0, lower=0, overwrite_c=1)

        owned = [[] for _ in sets]  # groups by the last set that holds them out
        for pattern, members in groups:
            if len(pattern):
                owned[pattern[-1]].append((pattern, members))
            elif total:  # in no set: the all-stimuli total only
                accumulate(members, acc[0])
        late = [[] for _ in range(count)]  # rows for totals already closed
        for k, mine in enumerate(owned):
            carriers, direct, later = routes(mine)
            for pattern, parts in carriers.items():
                accumulate(np.concatenate(parts), scratch)
                _add_into([acc[total + j] for j in pattern], scratch)
            if direct:
                accumulate(np.concatenate(direct), acc[total + k])
            for j, members in later:
                late[total + j].append(members)
            if total:  # close set k's total: the all-stimuli total receives its groups once
                _add_into([acc[0]], acc[total + k])
        for i, parts in enumerate(late):
            if parts:
                accumulate(np.concatenate(parts), acc[i])
        n = np.array([len(self.source)] * total + [len(s) for s in sets], dtype=float) * T
        if cached:
            sx, xx = cached[0]
        else:
            for a in acc:
                _symmetric(a)
            sx, xx = stacked[:, -1, :F], stacked[:, :F, :F]  # views: acc[i] is symmetric
            acc = [a[:, F:] for a in acc]
            self._cache_put(key, (sx, xx), stacked[:, :F, :].nbytes)
        return [Moments(n[i], sx[i], xx[i], acc[i][F:F + N, -1], acc[i][:F, :N], _symmetric(acc[i][F:F + N, :N]))
                for i in range(count)]

    # -- fitting --------------------------------------------------------------------------------
    def _fit(self, C, S, YY, downdate=None):
        """``(rotations, y_loadings or None)`` per fit: C (Bc, F, F), S (Bc, G, F, N)."""
        if self.regression == "pls":
            fit = pls_fit(C, S, np.einsum("...nn->...n", YY), self.n_components, downdate=downdate)
            with self._lock:
                self.power_stats.add(fit.stats)
            return fit.rotations, fit.y_loadings
        if downdate is not None:
            C = C[:, None] - np.swapaxes(downdate, -1, -2) @ downdate
        else:
            C = C[:, None]
        return ridge_coefficients(C, S, self.alpha), None

    @staticmethod
    def _predict(X, mx, my, rotation, loading) -> np.ndarray:
        """Predictions for rows ``X``: ``(X - mx) @ rotation [@ loading'] + my`` (numpy's products,
        which release the GIL)."""
        scores = X @ rotation - mx @ rotation
        return (scores if loading is None else scores @ loading.T) + my

    def _x_scores(self, images, bins, rotation, block_bytes: float = 4e6) -> np.ndarray:
        """Scores ``X @ rotation`` (image, bin, K) of the uncentred rows of ``images`` x ``bins``
        (r ignores the constant that centring adds), converted to float64 a few images at a time
        into one cache-sized buffer that the matrix product reads back from cache."""
        F, T = self.source.shape[2], len(bins)
        per = max(1, int(block_bytes // (8 * T * F)))
        buffer = np.empty((min(per, len(images)) * T, F))
        rotation = np.asfortranarray(rotation)
        parts = [dgemm(1.0, rotation, self._rows(images[i:i + per], bins, buffer).T, trans_a=1).T  # C order
                 for i in range(0, len(images), per)]
        return np.concatenate(parts).reshape(len(images), T, -1)

    def _spantime(self, jobs, bins, target, moments: list[Moments], parts) -> np.ndarray:
        """Test r (job, neuroid, time_bin); job j trains on ``moments[0] - sum(moments[parts[j]])``.

        BLAS runs single-threaded here: the fits' matrix-vector products and the K-column scores
        are too small to gain from threads, and on two threads they took several times as long."""
        from threadpoolctl import threadpool_limits

        F, N = self.source.shape[2], target.shape[2]
        out = np.empty((len(jobs), N, len(bins)))
        per_batch = max(1, int(self._batch_bytes // (8 * F ** 2)))
        with threadpool_limits(1, user_api="blas"):
            for first in range(0, len(jobs), per_batch):
                batch = range(first, min(first + per_batch, len(jobs)))
                C = np.empty((len(batch), F, F))
                trained = [moments[0].trained([moments[i] for i in parts[j]], C[k]) for k, j in enumerate(batch)]
                S, YY = (np.stack(p) for p in list(zip(*trained))[2:])  # the means only shift predictions
                rotations, loadings = self._fit(C, S[:, None], YY[:, None])
                for i, j in enumerate(batch):
                    test = np.asarray(jobs[j][1])
                    load = None if loadings is None else loadings[i, 0]
                    out[j] = projected_r(self._x_scores(test, bins, rotations[i, 0]), load, target[test]).T
        return out

    # -- per-bin ---------------------------------------------------------------------------------
    def _bin_moments(self, b: int, target_bin: np.ndarray):
        """``(Z, sx, xx, sy, yx, yy)``: the rows ``Z = [X | Y | 1]`` (stimulus, F + N + 1) of all
        stimuli in source bin ``b`` against ``target_bin`` (stimulus, N), and their moments, ``Y'X``
        as (N, F) rows: one ``Z'Z`` (numpy's symmetric product, which, unlike scipy's BLAS wrappers,
        releases the GIL for fits run side by side), or ``[Y | 1]'Z`` when ``sx, xx`` are cached."""
        F, N = self.source.shape[2], target_bin.shape[1]
        key = ("bin", int(b))
        Z = np.empty((len(self.source), F + N + 1))
        self._rows(np.arange(len(self.source)), [b], Z)
        Z[:, F:F + N], Z[:, -1] = target_bin, 1.0
        if key in self._cache:
            sx, xx = self._cache[key][0]
            rows = Z[:, F:].T @ Z  # [Y | 1]'[X | Y | 1]
        else:
            full = Z.T @ Z
            sx, xx = full[:F, -1].copy(), np.ascontiguousarray(full[:F, :F])
            self._cache_put(key, (sx, xx), xx.nbytes + sx.nbytes)
            rows = full[F:]
        return Z, sx, xx, rows[:N, -1], rows[:N, :F], rows[:N, F:F + N]

    def _perbin(self, jobs, bins, target) -> np.ndarray:
        """Test r (job, neuroid, time_bin) of one mapping per (job, bin), batched over bins; the
        batches run side by side, one per BLAS thread (each within its share of ``batch_bytes``)."""
        n, F = self.source.shape[0], self.source.shape[2]
        N, J = target.shape[2], len(jobs)
        everyone = np.arange(n)
        held = [np.setdiff1d(everyone, train) for train, _ in jobs]
        # a job whose test set is its held-out set is scored on H's rows, in H's order (r ignores order)
        tests = [h if np.array_equal(h, np.sort(test)) else np.asarray(test) for h, (_, test) in zip(held, jobs)]
        rows = max(len(h) for h in held) + 1
        per_bin = 8 * (F * F + J * (rows * F + 2 * F * N + F * self.n_components))
        if self.regression == "ridge":
            per_bin += 8 * J * F * F
        out = np.empty((J, N, len(bins)))

        def fit_batch(ts: list[int]) -> None:
            gathered = np.empty((rows, F + N + 1))
            C = np.empty((len(ts), F, F))
            H = np.empty((len(ts), J, rows, F))
            St, YY = np.empty((len(ts), J, N, F)), np.empty((len(ts), J, N, N))  # S' rows: pls_fit's layout
            MX, MY = np.empty((len(ts), J, F)), np.empty((len(ts), J, N))
            for i, t in enumerate(ts):
                Z, sx, C[i], sy, yx, yy = self._bin_moments(bins[t], target[:, t])
                for j, h in enumerate(held):
                    Zh = np.take(Z, h, axis=0, out=gathered[:len(h)])  # held-out [X | Y | 1]
                    Xh, Yh = Zh[:, :F], Zh[:, F:]
                    H[i, j, :len(h)] = Xh
                    yx_h, rest = Yh.T @ Xh, Yh.T @ Yh  # [Y'X; 1'X] and [Y'Y | Y'1; 1'Y | m], held out
                    n_train = n - len(h)
                    mx, my = (sx - yx_h[-1]) / n_train, (sy - rest[:N, -1]) / n_train
                    np.subtract(yx, yx_h[:N], out=St[i, j])
                    St[i, j] -= n_train * np.outer(my, mx)
                    YY[i, j] = yy - rest[:N, :N] - n_train * np.outer(my, my)
                    H[i, j, len(h)] = np.sqrt(n_train) * mx
                    H[i, j, len(h) + 1:] = 0.0
                    MX[i, j], MY[i, j] = mx, my
            rotations, loadings = self._fit(C, np.swapaxes(St, -1, -2), YY, downdate=H)
            for i, t in enumerate(ts):
                for j, test in enumerate(tests):
                    load = None if loadings is None else loadings[i, j]
                    X = H[i, j, :len(test)] if test is held[j] else self._rows(test, [bins[t]])
                    pred = self._predict(X, MX[i, j], MY[i, j], rotations[i, j], load)
                    out[j, :, t] = pearson_columns(pred, target[test, t])

        with side_by_side_fits() as pool:
            chunk = max(1, int(self._batch_bytes // (per_bin * pool.workers)))
            batches = [list(range(i, min(i + chunk, len(bins)))) for i in range(0, len(bins), chunk)]
            pool.map(fit_batch, batches)
        return out

    # -- ridge, one factorised fit per job ------------------------------------------------------
    def uses_dual(self, n_train: int, n_bins: int) -> bool:
        """Whether a ridge fit on ``n_train`` stimuli x ``n_bins`` bins uses the dual form: fewer
        training rows than features (or as many), and ``alpha > 0`` (see :mod:`.ridge_fit`)."""
        return self.regression == "ridge" and self.alpha > 0 and n_train * n_bins <= self.source.shape[2]

    def ridge_predictor(self, train, test, bins) -> Predictor:
        """The ridge fit on ``train``'s rows in source ``bins``, predicting ``test``'s rows; rows
        are stimulus-major (stimulus, bin) and targets passed to it must be ordered alike."""
        if not self.uses_dual(len(train), len(bins)):
            return primal_predictor(self._rows(train, bins), self._rows(test, bins), self.alpha)
        T = len(bins)
        rows = [(np.asarray(s)[:, None] * T + np.arange(T)).ravel() for s in (train, test)]
        return dual_predictor(self._gram(bins), *rows, self.alpha)

    def _gram(self, bins) -> np.ndarray:
        """Inner products of all stimuli's rows in ``bins`` (stimulus-major), cached (fits
        running side by side may ask for it at once: one computes it, the others wait)."""
        key = ("gram", tuple(int(b) for b in bins))
        with self._gram_lock:
            if key in self._cache:
                return self._cache[key][0]
            X = self._rows(np.arange(len(self.source)), bins)
            gram = X @ X.T
            self._cache_put(key, gram, gram.nbytes)
            return gram

    def fit_groups(self, n_bins: int) -> list[slice]:
        """Bins fitted together: all of them (``spantime``) or each alone (``perbin``)."""
        return [slice(0, n_bins)] if self.mode == "spantime" else [slice(t, t + 1) for t in range(n_bins)]

    def all_dual(self, trains, n_bins: int) -> bool:
        """Whether the ridge fit of every training set over ``n_bins`` source bins (all bins in
        ``spantime`` mode, one in ``perbin``) is solved in the dual form."""
        per_fit = n_bins if self.mode == "spantime" else 1
        return all(self.uses_dual(len(train), per_fit) for train in trains)

    def _ridge_r(self, jobs, bins, target) -> np.ndarray:
        """Test r (job, neuroid, time_bin) of one ridge predictor per job and fitted group."""
        bins = np.asarray(bins)
        out = np.empty((len(jobs), target.shape[2], len(bins)))

        def fit(j: int) -> None:
            train, test = jobs[j]
            for group in self.fit_groups(len(bins)):
                predict = self.ridge_predictor(train, test, bins[group])
                out[j][:, group] = test_r(predict, train, test, target[:, group])

        with side_by_side_fits() as pool:
            pool.map(fit, range(len(jobs)))
        return out

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

    def _held_out(self, train) -> np.ndarray:
        return np.setdiff1d(np.arange(self.source.shape[0]), train)

    def correlations(self, target: np.ndarray, bins) -> np.ndarray:
        """Test-set Pearson r per split, neuroid and time bin: array (split, neuroid, time_bin)."""
        bins = [int(b) for b in bins]
        target = self.check_target(target, bins)
        jobs = list(self.splits)
        if self.all_dual([train for train, _ in jobs], len(bins)):
            return self._ridge_r(jobs, bins, target)
        if self.mode == "perbin":
            return self._perbin(jobs, bins, target)
        return self._spantime(jobs, bins, target, self._outer_moments(bins, target),
                              [[1 + k] for k in range(len(jobs))])

    def _outer_moments(self, bins, target) -> list[Moments]:
        """Moments of all stimuli, then of each split's held-out stimuli."""
        return self._set_moments([self._held_out(train) for train in self.splits.train], bins, target, total=True)

    def inner_correlations(self, target: np.ndarray, bins, folds: list[Splits]) -> np.ndarray:
        """Pearson r (split, fold, neuroid, time_bin) of inner folds inside each outer split.

        ``folds[k]`` splits outer split k's training stimuli; only those are used, so choices
        made from these scores (e.g. the temporal shift) never see the outer test stimuli.
        """
        bins = [int(b) for b in bins]
        target = self.check_target(target, bins)
        jobs = [(inner_train, inner_test) for k in range(len(self.splits)) for inner_train, inner_test in folds[k]]
        if self.all_dual([train for train, _ in jobs], len(bins)):
            r = self._ridge_r(jobs, bins, target)
        elif self.mode == "perbin":
            r = self._perbin(jobs, bins, target)
        else:
            outer = self._outer_moments(bins, target)
            r = np.concatenate([self._inner_spantime(outer, k, folds[k], bins, target)
                                for k in range(len(self.splits))])
        return r.reshape(len(self.splits), -1, *r.shape[1:])

    def _inner_spantime(self, outer: list[Moments], k: int, folds: Splits, bins, target) -> np.ndarray:
        """Inner folds of outer split k: training = all - outer held-out - inner held-out."""
        train = self.splits.train[k]
        inner = self._set_moments([np.setdiff1d(train, t) for t, _ in folds], bins, target, total=False)
        moments = [outer[0], outer[1 + k], *inner]
        return self._spantime(list(folds), bins, target, moments, [[1, 2 + j] for j in range(len(folds))])


def aggregate(r: np.ndarray) -> np.ndarray:
    """Brain-Score's aggregate of (split, neuroid, time_bin) r: median over neuroids, mean over splits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices stay NaN
        return np.nanmean(np.nanmedian(r, axis=1), axis=0)
