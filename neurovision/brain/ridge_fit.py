"""One ridge fit, factorised once, predicting the test rows of any number of targets.

Ridge with an intercept fits centred training rows ``Xc`` (n, F) to centred targets ``Yc``:
``W = (Xc'Xc + alpha I)^-1 Xc'Yc``. By the push-through identity (``alpha > 0``) the same
weights are ``Xc' (Xc Xc' + alpha I)^-1 Yc``, so predictions ``(x - mx) W`` need only inner
products of rows. :func:`primal_predictor` solves the F x F system; :func:`dual_predictor`
solves the n x n one from a Gram matrix of all rows (formed once and shared by every split),
which is cheaper whenever a fit has fewer rows than features (e.g. 576 training images against
1,024 model features in one time bin); its predictions are a fixed (test x train) matrix times
the centred targets, so many targets (permutation draws) cost one matrix product. Both return
the same predictions to rounding.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import linalg

from .linear import check_ridge_alpha, pearson_columns

Predictor = Callable[[np.ndarray], np.ndarray]


def primal_predictor(train_rows: np.ndarray, test_rows: np.ndarray, alpha: float) -> Predictor:
    """``Y (n_train, M) -> predictions (n_test, M)`` from rows (n, F) via the F x F system."""
    check_ridge_alpha(alpha)
    mx = train_rows.mean(0)
    centred = train_rows - mx
    factor = linalg.cho_factor(centred.T @ centred + alpha * np.eye(centred.shape[1]))
    test = test_rows - mx

    def predict(Y: np.ndarray) -> np.ndarray:
        my = Y.mean(0)
        return test @ linalg.cho_solve(factor, centred.T @ (Y - my)) + my

    return predict


def dual_predictor(gram: np.ndarray, train: np.ndarray, test: np.ndarray, alpha: float) -> Predictor:
    """``Y (len(train), M) -> predictions (len(test), M)`` from ``gram`` (rows x rows) = X X'.

    ``train`` and ``test`` index rows of ``gram``; the centred kernels are
    ``Kc = (G - 1 g' - g 1' + mean(g))[train, train]`` with ``g`` the mean over training rows.
    Needs ``alpha > 0`` (with fewer rows than features the unregularised system is singular).
    """
    if alpha <= 0:
        raise ValueError(f"the dual ridge form needs alpha > 0, got {alpha}")
    kernel = gram[np.ix_(train, train)]  # a copy, centred in place
    g = kernel.mean(0)
    centre = g.mean()
    kernel -= g[None, :]
    kernel -= g[:, None] - centre
    kernel[np.diag_indices_from(kernel)] += alpha
    cross = gram[np.ix_(test, train)]
    cross -= g[None, :]
    cross -= cross.mean(1, keepdims=True)  # the row mean of G_st - g' is a - mean(g)
    factor = linalg.cho_factor(kernel, overwrite_a=True, check_finite=False)
    hat = linalg.cho_solve(factor, cross.T, check_finite=False).T  # (test, train)
    keep_mean = 1.0 - hat.sum(1, keepdims=True)  # hat @ (Y - my) + my = hat @ Y + keep_mean * my

    def predict(Y: np.ndarray) -> np.ndarray:
        return hat @ Y + keep_mean * Y.mean(0)

    return predict


def test_r(predict: Predictor, train: np.ndarray, test: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Test Pearson r (column, bin) of ``predict``, a fit on ``train``'s rows, for ``target``
    (stimulus, bin, ...; the trailing axes are the columns, e.g. a view of draws x neuroids):
    every column of every bin over the ``test`` stimuli. Only the train and test rows are copied."""
    bins = target.shape[1]
    truth = target[test].reshape(len(test), bins, -1)
    pred = predict(target[train].reshape(len(train) * bins, -1)).reshape(truth.shape)
    return pearson_columns(pred.transpose(1, 0, 2), truth.transpose(1, 0, 2)).T


@dataclass
class SideBySide:
    """``workers`` threads running independent fits (see :func:`side_by_side_fits`)."""

    pool: ThreadPoolExecutor
    workers: int

    def map(self, fn: Callable, items) -> list:
        """``[fn(item) for item in items]``, computed on the workers (in this thread when there is
        one, so that profilers and debuggers see the work)."""
        if self.workers == 1:
            return [fn(item) for item in items]
        return list(self.pool.map(fn, items))


def blas_threads() -> int:
    """The most threads any loaded BLAS library runs (1 when none is loaded)."""
    from threadpoolctl import threadpool_info

    return max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] or [1])


@contextmanager
def side_by_side_fits():
    """A :class:`SideBySide` with one worker per BLAS thread, BLAS single-threaded meanwhile.

    Small dense work gains little from BLAS threads: dual ridge fits factorise matrices of a few
    hundred rows (a 384-row Cholesky takes 1.0 ms on one thread, 1.4 ms on two here), and
    per-bin PLS fits are chains of small matrix-vector products. Independent fits run side by side
    instead; NumPy and LAPACK release the GIL.
    """
    from threadpoolctl import threadpool_limits

    workers = blas_threads()
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        yield SideBySide(pool, workers)
