"""Model vs monkey behaviour in the reaction-time dots task, with bootstrap intervals.

The model's reaction time is its decision time (threshold crossing after motion onset) plus a
non-decision time (sensory and motor latencies the network does not have), fitted as the one
offset that best matches the monkeys' mean RT per coherence (correct trials, and all 0 %
trials; :func:`~neurovision.backend.behaviour.non_decision_time`). Curves are compared on
trials with a response; the fraction without one is reported (every monkey trial ended in a
saccade).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from neurovision.backend.behaviour import non_decision_time
from neurovision.backend.psychometric import answered, bootstrap_fit, chronometric_ci, counts


def _timed(table: pd.DataFrame) -> pd.DataFrame:
    rows = answered(table)
    return rows[rows["correct"].astype(bool) | (rows["coherence"] == 0)]


def curves(table: pd.DataFrame, n_boot: int, seed: int) -> dict:
    """Logistic fit of P(choice 1) on signed coherence and the chronometric curve, with intervals."""
    rows = answered(table)
    signed = counts(rows.assign(_choice1=rows["choice"] == 1), "signed_coherence", "_choice1")
    timed = _timed(table)
    return {"logistic": bootstrap_fit(signed["signed_coherence"], signed["k"], signed["n"], "logistic",
                                      n_boot=n_boot, seed=seed),
            "chronometric": chronometric_ci(timed["rt_ms"], timed["coherence"], n_boot, seed),
            "no_response_fraction": float(1 - len(rows) / len(table)),
            "accuracy_responded": float(rows["correct"].mean())}


def _overlap(a, b) -> bool:
    return bool(a[0] <= b[1] and b[0] <= a[1])


def observations(model: dict, monkeys: dict) -> list[dict]:
    """Pass/fail rows of the paper's behavioural observations for the model (monkeys beside)."""
    def row(text, key, test, model_value, monkey_value):
        return {"observation": text, "statistic": key, "model": model_value, "model_pass": test(model_value),
                "reference": monkey_value, "reference_pass": test(monkey_value) if monkey_value is not None else None}

    m_slope, k_slope = model["logistic"]["slope"], monkeys["logistic"]["slope"]
    m_rt, k_rt = model["chronometric"]["slope_ms_per_unit"], monkeys["chronometric"]["slope_ms_per_unit"]
    return [
        row("choices follow the motion: P(choice 1) rises with signed coherence", "logistic_slope",
            lambda s: bool(s["ci"][0] > 0), m_slope, k_slope),
        row("reaction time falls with coherence (correct trials)", "rt_slope_ms_per_coherence",
            lambda s: bool(s["ci"][1] < 0), m_rt, k_rt),
        row("psychometric threshold as the monkeys' (95% intervals overlap)", "logistic_threshold",
            lambda s: _overlap(s["ci"], monkeys["logistic"]["threshold"]["ci"]),
            model["logistic"]["threshold"], None),
        row("RT falls with coherence as steeply as the monkeys' (95% intervals overlap)", "rt_slope_ms_per_coherence",
            lambda s: _overlap(s["ci"], k_rt["ci"]), m_rt, None),
    ]


def behaviour_summary(model_table: pd.DataFrame, monkey_table: pd.DataFrame, n_boot: int = 500,
                      seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """``(summary, model table with rt_ms = decision_ms + fitted non-decision time)``."""
    offset = non_decision_time(model_table, monkey_table)
    table = model_table.assign(rt_ms=model_table["decision_ms"] + offset, non_decision_ms=offset)
    model, monkeys = curves(table, n_boot, seed), curves(monkey_table, n_boot, seed)
    rt = np.asarray(model["chronometric"]["rt_ms"])
    return ({"non_decision_ms": offset, "non_decision_source":
             "fitted: the offset that matches the monkeys' mean RT per coherence (correct and 0% trials)",
             "model": model, "monkeys": monkeys, "model_rt_range_ms": [float(rt.min()), float(rt.max())],
             "observations": observations(model, monkeys)}, table)
