"""Psychometric and chronometric curves with fitted parameters and bootstrap confidence intervals.

Two psychometric functions, fitted by maximum likelihood to ``k`` of ``n`` choices per strength:

* ``logistic`` (signed strength, P(choice 1)):
  ``P = lapse/2 + (1 - lapse) / (1 + exp(-(x - bias) / scale))``; ``threshold = scale ln 3``
  (distance from the 50 % to the 75 % point of the lapse-free curve, x units) and
  ``slope = 1 / (4 scale)`` (dP/dx at the bias, per x unit);
* ``weibull`` (unsigned strength, P(correct)):
  ``P = 1/2 + (1/2 - lapse) (1 - exp(-(x / alpha)^beta))``; ``threshold = alpha`` (81.6 %
  correct without lapses) and ``slope = beta``.

Confidence intervals resample trials with replacement within each strength (``k* ~
Binomial(n, k / n)``) and refit (percentile intervals). Chronometric curves give the mean
reaction time per strength and the least-squares slope of RT against strength, with intervals
from resampling trials within each strength.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from ..errors import DataError, UnknownIdError

KINDS = ("logistic", "weibull")
LEVEL = 0.95


def curve_values(kind: str, params: dict, x) -> np.ndarray:
    """The fitted function of ``kind`` with ``params`` at ``x``."""
    x = np.asarray(x, dtype=float)
    lam = params["lapse"]
    if kind == "logistic":
        return lam / 2 + (1 - lam) * expit((x - params["bias"]) / params["scale"])
    if kind == "weibull":
        return 0.5 + (0.5 - lam) * (1 - np.exp(-(np.clip(x, 0, None) / params["alpha"]) ** params["beta"]))
    raise UnknownIdError("psychometric function", kind, list(KINDS))


def _params(kind: str, theta: np.ndarray, lapse: bool) -> dict:
    lam = float(expit(theta[2]) * 0.5) if lapse else 0.0
    if kind == "logistic":
        scale = float(np.exp(theta[1]))
        return {"bias": float(theta[0]), "scale": scale, "lapse": lam,
                "threshold": scale * np.log(3.0), "slope": 1.0 / (4.0 * scale)}
    alpha, beta = float(np.exp(theta[0])), float(np.exp(theta[1]))
    return {"alpha": alpha, "beta": beta, "lapse": lam, "threshold": alpha, "slope": beta}


def fit_curve(x, k, n, kind: str = "logistic", lapse: bool = True) -> dict:
    """Maximum-likelihood fit of ``kind`` to ``k`` of ``n`` trials at strengths ``x``."""
    if kind not in KINDS:
        raise UnknownIdError("psychometric function", kind, list(KINDS))
    x, k, n = (np.asarray(v, dtype=float) for v in (x, k, n))
    if x.size < 2 or np.any(n <= 0) or np.unique(x).size < 2:
        raise DataError(f"a psychometric fit needs trials at two or more strengths; got strengths {x.tolist()}")
    if kind == "weibull" and np.any(x < 0):
        raise DataError("a Weibull fit takes unsigned strengths (>= 0); give |x| and P(correct)")

    def nll(theta):
        p = np.clip(curve_values(kind, _params(kind, theta, lapse), x), 1e-9, 1 - 1e-9)
        return -np.sum(k * np.log(p) + (n - k) * np.log(1 - p))

    span = float(np.ptp(x)) or 1.0
    if kind == "logistic":
        start = np.array([0.0, np.log(span / 10), -4.0])
    else:
        start = np.array([np.log(max(np.median(x[x > 0]) if np.any(x > 0) else span, 1e-6)), 0.0, -4.0])
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
    return {**_params(kind, best.x, lapse), "nll": float(best.fun)}


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap ``values`` (NaNs left out; NaN if none are finite)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def bootstrap_fit(x, k, n, kind: str = "logistic", lapse: bool = True, n_boot: int = 200,
                  seed: int = 0) -> dict:
    """``{parameter: {"estimate", "ci": [lo, hi]}}`` of :func:`fit_curve` with trials resampled
    within each strength ``n_boot`` times."""
    x, k, n = (np.asarray(v, dtype=float) for v in (x, k, n))
    fit = fit_curve(x, k, n, kind, lapse)
    rng = np.random.default_rng(seed)
    draws = [fit_curve(x, rng.binomial(n.astype(int), k / n), n, kind, lapse) for _ in range(n_boot)]
    return {name: {"estimate": value, "ci": list(interval([d[name] for d in draws]))}
            for name, value in fit.items() if name != "nll"}


def counts(table: pd.DataFrame, x: str, outcome: str) -> pd.DataFrame:
    """Trials ``n`` and successes ``k`` (``outcome`` true) per value of ``x``."""
    grouped = table[outcome].astype(float).groupby(table[x])
    return pd.DataFrame({"n": grouped.size(), "k": grouped.sum()}).reset_index()


def chronometric_ci(rt_ms, strength, n_boot: int = 200, seed: int = 0) -> dict:
    """Mean RT (ms) per strength with intervals, and the slope of RT on strength (ms per unit)."""
    rt, x = np.asarray(rt_ms, dtype=float), np.asarray(strength, dtype=float)
    ok = np.isfinite(rt)
    rt, x = rt[ok], x[ok]
    levels = np.unique(x)
    if levels.size < 2:
        raise DataError(f"a chronometric curve needs reaction times at two or more strengths; got {levels.tolist()}")
    groups = [rt[x == v] for v in levels]
    rng = np.random.default_rng(seed)

    def slope(means):
        centred = levels - levels.mean()
        return float(centred @ (means - means.mean()) / (centred @ centred))

    means = np.array([g.mean() for g in groups])
    boots = np.array([[rng.choice(g, g.size).mean() for g in groups] for _ in range(n_boot)])
    return {"strength": levels.tolist(), "n": [int(g.size) for g in groups], "rt_ms": means.tolist(),
            "rt_ci": [list(interval(boots[:, j])) for j in range(levels.size)],
            "slope_ms_per_unit": {"estimate": slope(means), "ci": list(interval([slope(b) for b in boots]))}}


def fit_non_decision_time(decision_ms, reference_ms) -> float:
    """Least-squares offset (ms) added to decision times to match reference mean RTs at the same
    strengths: the mean of ``reference - decision`` over the strengths where both exist."""
    diff = np.asarray(reference_ms, dtype=float) - np.asarray(decision_ms, dtype=float)
    diff = diff[np.isfinite(diff)]
    if diff.size == 0:
        raise DataError("no strength has both model decision times and reference reaction times")
    return float(diff.mean())


def answered(table: pd.DataFrame) -> pd.DataFrame:
    """The trials with a response (all of them when the table has no ``responded`` column)."""
    return table[table["responded"].astype(bool)] if "responded" in table else table


def graded_strength(table: pd.DataFrame) -> pd.Series | None:
    """Signed stimulus strength toward choice 1 of each trial, for the tasks with one graded
    stimulus: motion coherence (``signed_coherence``, or ``coh`` signed by the target),
    the relevant modality's coherence (context tasks: ``coh_1``/``coh_2`` by ``context``) or the
    frequency difference ``v1 - v2`` (working memory); None for other tasks."""
    if "signed_coherence" in table:
        return table["signed_coherence"].astype(float)
    sign = np.where(table["target"] == 1, 1.0, -1.0) if "target" in table else None
    if sign is None:
        return None
    if {"coh_1", "coh_2", "context"} <= set(table.columns):
        relevant = np.where(table["context"] == 0, table["coh_1"], table["coh_2"]).astype(float)
        return pd.Series(sign * relevant, index=table.index)
    if "coh" in table:
        return pd.Series(sign * table["coh"].astype(float), index=table.index)
    if {"v1", "v2"} <= set(table.columns):
        return pd.Series(sign * (table["v1"] - table["v2"]).abs().astype(float), index=table.index)
    return None


def behaviour_summary(table: pd.DataFrame, n_boot: int = 200, seed: int = 0) -> dict:
    """Accuracy on trials with a response, the fraction without one, and (for tasks with a
    graded stimulus) logistic and Weibull fits and the chronometric curve with intervals.

    ``table``: one row per trial with ``choice`` (0 = no response), ``correct``, ``target``
    and, for reaction-time tasks, ``responded`` and ``rt_ms``.
    """
    taken = answered(table)
    out = {"n_trials": int(len(table)), "n_responded": int(len(taken)),
           "no_response_fraction": float(1 - len(taken) / len(table)) if len(table) else float("nan"),
           "accuracy_responded": float(taken["correct"].mean()) if len(taken) else float("nan")}
    strength = graded_strength(taken)
    if strength is None or strength.nunique() < 2:
        return out
    rows = taken.assign(_x=strength, _abs=strength.abs(), _choice1=taken["choice"] == 1)
    signed = counts(rows, "_x", "_choice1")
    out["logistic"] = bootstrap_fit(signed["_x"], signed["k"], signed["n"], "logistic", n_boot=n_boot, seed=seed)
    nonzero = rows[rows["_abs"] > 0]
    if nonzero["_abs"].nunique() >= 2:
        acc = counts(nonzero, "_abs", "correct")
        out["weibull"] = bootstrap_fit(acc["_abs"], acc["k"], acc["n"], "weibull", n_boot=n_boot, seed=seed)
    if "rt_ms" in rows and rows["rt_ms"].notna().any():
        timed = rows[rows["correct"].astype(bool) | (rows["_abs"] == 0)]
        out["chronometric"] = chronometric_ci(timed["rt_ms"], timed["_abs"], n_boot, seed)
    return out
