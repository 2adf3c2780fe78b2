"""Psychometric and chronometric curves of any choice table (model or monkey).

A choice table has one row per trial with a stimulus-strength column (e.g. signed coherence in
%), a ``choice`` column and, for reaction-time tasks, ``rt_ms``. The psychometric function is
fitted with a logistic ``P(choice) = lapse/2 + (1 - lapse) / (1 + exp(-(x - bias) / scale))``
by maximum likelihood; :mod:`.psychometric` adds Weibull fits and bootstrap intervals.
Trials without a response (``responded`` false) are left out of both curves.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .psychometric import answered, fit_curve, fit_non_decision_time


def psychometric(table: pd.DataFrame, x: str, choice) -> pd.DataFrame:
    """Proportion of trials with ``choice == choice`` at each value of ``x`` (with binomial SEM)."""
    if x not in table or "choice" not in table:
        raise DataError(f"the table needs columns {x!r} and 'choice'; it has {list(table.columns)}")
    table = answered(table)
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
    rows = answered(table)
    rows = rows[rows["rt_ms"].notna()]
    if correct_only and "correct" in rows:
        rows = rows[rows["correct"].astype(bool) | (rows[x] == 0)]
    grouped = rows.groupby(x)["rt_ms"]
    out = pd.DataFrame({"n": grouped.size(), "rt_ms": grouped.mean(), "sem": grouped.sem()})
    return out.reset_index()


def fit_logistic(x: np.ndarray, k: np.ndarray, n: np.ndarray, lapse: bool = True) -> dict:
    """Maximum-likelihood logistic fit to ``k`` of ``n`` choices at strengths ``x``
    (:func:`~neurovision.backend.psychometric.fit_curve`): ``bias`` (x at 50%), ``scale``
    (x units; smaller = steeper), ``lapse``, ``nll`` and the x at 75% choices of the lapse-free
    curve, ``threshold = bias + scale * ln 3``."""
    fit = fit_curve(x, k, n, "logistic", lapse)
    return {"bias": fit["bias"], "scale": fit["scale"], "lapse": fit["lapse"],
            "threshold": fit["bias"] + fit["threshold"], "nll": fit["nll"]}


def non_decision_time(model_table: pd.DataFrame, monkey_table: pd.DataFrame, x: str = "coherence") -> float:
    """Offset (ms) added to the model's ``decision_ms`` that best matches the reference's mean RT
    per value of ``x`` (correct trials and all zero-strength trials, least squares)."""
    model = chronometric(model_table.assign(rt_ms=model_table["decision_ms"]), x).set_index(x)
    reference = chronometric(monkey_table, x).set_index(x)
    shared = model.index.intersection(reference.index)
    return fit_non_decision_time(model.loc[shared, "rt_ms"], reference.loc[shared, "rt_ms"])
