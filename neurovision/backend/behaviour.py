"""Psychometric and chronometric curves of any choice table (model or monkey).

A choice table has one row per trial with a stimulus-strength column (e.g. signed coherence in
%), a ``choice`` column and, for reaction-time tasks, ``rt_ms``. The psychometric function is
fitted with a logistic ``P(choice) = lapse/2 + (1 - lapse) / (1 + exp(-(x - bias) / scale))``
by maximum likelihood.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from ..errors import DataError


def psychometric(table: pd.DataFrame, x: str, choice) -> pd.DataFrame:
    """Proportion of trials with ``choice == choice`` at each value of ``x`` (with binomial SEM)."""
    if x not in table or "choice" not in table:
        raise DataError(f"the table needs columns {x!r} and 'choice'; it has {list(table.columns)}")
    picked = (table["choice"] == choice).astype(float)
    grouped = picked.groupby(table[x])
    out = pd.DataFrame({"n": grouped.size(), "p": grouped.mean()})
    out["sem"] = np.sqrt(out["p"] * (1 - out["p"]) / out["n"])
    return out.reset_index()


def chronometric(table: pd.DataFrame, x: str, correct_only: bool = True) -> pd.DataFrame:
    """Mean reaction time (ms) and SEM at each value of ``x``; by default on correct trials,
    except at a zero-strength value, where every trial counts."""
    if "rt_ms" not in table:
        raise DataError("the table has no 'rt_ms' column; chronometric curves need reaction times")
    rows = table[table["rt_ms"].notna()]
    if correct_only and "correct" in rows:
        rows = rows[rows["correct"].astype(bool) | (rows[x] == 0)]
    grouped = rows.groupby(x)["rt_ms"]
    out = pd.DataFrame({"n": grouped.size(), "rt_ms": grouped.mean(), "sem": grouped.sem()})
    return out.reset_index()


def fit_logistic(x: np.ndarray, k: np.ndarray, n: np.ndarray, lapse: bool = True) -> dict:
    """Maximum-likelihood logistic fit to ``k`` of ``n`` choices at strengths ``x``.

    Returns ``bias`` (x at 50%), ``scale`` (x units; smaller = steeper), ``lapse`` and the
    threshold ``x`` at 75% choices of the lapse-free curve, ``bias + scale * ln 3``.
    """
    x, k, n = (np.asarray(v, dtype=float) for v in (x, k, n))
    if x.size < 2 or np.any(n <= 0):
        raise DataError("a psychometric fit needs at least two strengths with trials")

    def nll(theta):
        bias, log_scale, logit_lapse = theta
        lam = expit(logit_lapse) * 0.5 if lapse else 0.0
        p = lam / 2 + (1 - lam) * expit((x - bias) / np.exp(log_scale))
        p = np.clip(p, 1e-9, 1 - 1e-9)
        return -np.sum(k * np.log(p) + (n - k) * np.log(1 - p))

    span = float(np.ptp(x)) or 1.0
    start = np.array([0.0, np.log(span / 10), -4.0])
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
    bias, log_scale, logit_lapse = best.x
    scale = float(np.exp(log_scale))
    return {"bias": float(bias), "scale": scale,
            "lapse": float(expit(logit_lapse) * 0.5) if lapse else 0.0,
            "threshold": float(bias + scale * np.log(3.0)), "nll": float(best.fun)}
