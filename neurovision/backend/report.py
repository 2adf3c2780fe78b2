"""Figures and tuning statistics of a finished task run.

:func:`report_run` re-runs a run's evaluation trials (front-end features from its cache),
records the back-end's output area and writes into the run folder:

* ``behaviour.png`` and ``behaviour.json``: for tasks with a graded stimulus (coherence,
  relevant coherence, frequency difference) P(choice 1) with a logistic fit, P(correct) with a
  Weibull fit (thresholds and slopes with 95 % bootstrap intervals) and, for reaction-time
  tasks, the chronometric curve (decision time plus a non-decision time, fitted to Roitman &
  Shadlen's monkeys for random-dot motion); accuracy on trials with a response and the fraction
  without one; P("match") against test numerosity for each sample
  numerosity (numerosity); P(sample judged "cat") against the sample's cat fraction (cat/dog
  morphs: the category a choice implies given the test's category); accuracy per condition
  otherwise;
* ``psth.png``: condition-sorted PSTHs (aligned to the task's ``report_align`` period onset) of
  the four units most selective for the task's ``report_condition``;
* ``tuning.json``: the fraction of units whose mean rate from that onset to the response period
  differs across conditions (one-way ANOVA, p < 0.01).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import f_oneway

from ..io import atomic_path
from ..errors import DataError
from .behaviour import non_decision_time, psychometric
from .psychometric import answered, behaviour_summary, curve_values, graded_strength
from .evaluation import condition_psth, correct_actions, decide, decision_rule, run_network
from .experiment import evaluation_trials, load_run, run_cache_dir

SELECTIVITY_P = 0.01


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def selectivity(rates: np.ndarray, table: pd.DataFrame, condition: str, start: np.ndarray,
                stop: np.ndarray) -> np.ndarray:
    """One-way ANOVA p-value per unit of its mean rate over steps [start, stop) across conditions."""
    steps = np.arange(rates.shape[1])[None]
    window = (steps >= start[:, None]) & (steps < stop[:, None])
    mean = (rates * window[..., None]).sum(1) / window.sum(1, keepdims=True)
    groups = [mean[(table[condition] == value).to_numpy()] for value in sorted(table[condition].unique())]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = f_oneway(*groups).pvalue
    return np.nan_to_num(np.asarray(p, dtype=float), nan=1.0)


def _ci_text(fit: dict, name: str) -> str:
    value = fit[name]
    return f"{name} {value['estimate']:.3g} [{value['ci'][0]:.3g}, {value['ci'][1]:.3g}]"


def _graded_axes(table: pd.DataFrame, summary: dict, plt):
    """Psychometric (logistic on signed strength), accuracy (Weibull on |strength|) and
    chronometric panels, fitted parameters with 95 % bootstrap intervals in the titles."""
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(12, 3.6))
    rows = answered(table).assign(_x=graded_strength(answered(table)))
    curve = psychometric(rows, "_x", 1)
    xs = np.linspace(curve["_x"].min(), curve["_x"].max(), 200)
    fit = summary["logistic"]
    left.plot(xs, curve_values("logistic", {k: v["estimate"] for k, v in fit.items()}, xs))
    left.errorbar(curve["_x"], curve["p"], curve["sem"], fmt="o")
    left.set(xlabel="signed stimulus strength toward choice 1", ylabel="P(choice 1)")
    left.set_title(f"{_ci_text(fit, 'threshold')}\n{_ci_text(fit, 'slope')}", fontsize=7)
    if "weibull" in summary:
        nonzero = rows[rows["_x"] != 0].assign(_abs=lambda t: t["_x"].abs())
        accuracy = nonzero.groupby("_abs")["correct"].mean()
        xs = np.linspace(0, accuracy.index.max(), 200)
        middle.plot(xs, curve_values("weibull", {k: v["estimate"] for k, v in summary["weibull"].items()}, xs))
        middle.plot(accuracy.index, accuracy.values, "o")
        middle.set(xlabel="stimulus strength", ylabel="P(correct)", ylim=(0.4, 1.02))
        middle.set_title(f"Weibull {_ci_text(summary['weibull'], 'threshold')}\n{_ci_text(summary['weibull'], 'slope')}",
                         fontsize=7)
    if "chronometric" in summary:
        chrono = summary["chronometric"]
        lo, hi = np.array(chrono["rt_ci"]).T
        means = np.array(chrono["rt_ms"])
        right.errorbar(chrono["strength"], means, [means - lo, hi - means], fmt="o-")
        right.set(xlabel="stimulus strength", ylabel="reaction time (ms)", xscale="symlog")
        right.set_title(f"decision + {summary['non_decision_ms']:.0f} ms non-decision time\n"
                        f"({summary['non_decision_source'][:60]})", fontsize=7)
    else:
        right.text(0.5, 0.5, "fixed response period:\nno reaction times", ha="center", va="center")
        right.set_axis_off()
    return fig


def _non_decision(task: str, table: pd.DataFrame) -> tuple[float, str]:
    """Non-decision time (ms) added to decision times, and where it comes from: for
    random-dot-motion fitted to Roitman & Shadlen's monkeys, otherwise none (0)."""
    if "decision_ms" not in table or table["decision_ms"].isna().all():
        return 0.0, "no reaction times"
    if task != "random-dot-motion":
        return 0.0, "none: no reference reaction times for this task; RT = decision time"
    from ..data.lip import load_roitman

    try:
        monkeys = load_roitman().trials
    except (OSError, DataError) as exc:
        return 0.0, f"none: Roitman & Shadlen data unavailable ({exc}); RT = decision time"
    return (non_decision_time(table, monkeys),
            "fitted to Roitman & Shadlen 2002 mean RT per coherence (correct and 0% trials)")


def _behaviour_axes(table: pd.DataFrame, env, plt, summary: dict):
    if "logistic" in summary:
        return _graded_axes(table, summary, plt)
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    if {"sample", "test", "match"} <= set(table.columns):
        for sample, rows in table.groupby("sample"):
            curve = psychometric(rows, "test", 1)
            ax.plot(curve["test"], curve["p"], "o-", label=f"sample {sample}")
        ax.set(xlabel="test numerosity", ylabel='P("match")')
        ax.legend(frameon=False, fontsize=7)
        return fig
    if {"sample_level", "test_category"} <= set(table.columns):
        answered = table[table["choice"] > 0]
        judged = answered.assign(choice=((answered["choice"] == 1) == (answered["test_category"] == 0)).astype(int))
        curve = psychometric(judged, "sample_level", 1)
        ax.plot(100 * curve["sample_level"], curve["p"], "o-")
        ax.axvline(50, color="grey", linestyle=":")
        ax.set(xlabel="sample morph (% cat)", ylabel='P(sample judged "cat")', ylim=(-0.02, 1.02))
        return fig
    condition = getattr(env, "report_condition", None) or "target"
    accuracy = table.groupby(condition)["correct"].mean()
    ax.plot(accuracy.index, accuracy.values, "o-")
    ax.axhline(1.0 / (table["target"].max()), color="grey", linestyle=":")
    ax.set(xlabel=condition, ylabel="accuracy", ylim=(0, 1.02))
    return fig


def report_run(folder: str | Path, n_units: int = 4, task_options: dict | None = None,
               out: str | Path | None = None) -> dict:
    """Write ``behaviour.png``, ``psth.png`` and ``tuning.json`` for the run in ``folder`` into
    ``out`` (default ``folder``); ``task_options`` change the evaluation task (e.g. untrained
    stimulus levels) while the trained back-end stays as it is."""
    folder = Path(folder)
    run, env, model = load_run(folder, task_options)
    dest = Path(out) if out is not None else folder
    dest.mkdir(parents=True, exist_ok=True)
    backend = getattr(model, "backend", model)
    trials = evaluation_trials(run, env, model, run_cache_dir(folder))
    out = run_network(backend, trials.inputs, record=True, seed=run.seed)
    table = pd.concat([trials.info.reset_index(drop=True),
                       decide(out.logits, trials, decision_rule(env), run.threshold)], axis=1)
    table["target"] = correct_actions(trials)
    table["correct"] = table["choice"] == table["target"]
    offset, source = _non_decision(run.task, table)
    table["rt_ms"] = table["decision_ms"] + offset
    behaviour = {**behaviour_summary(table, seed=run.seed), "non_decision_ms": offset, "non_decision_source": source}
    with atomic_path(dest / "behaviour.json") as tmp:
        tmp.write_text(json.dumps(behaviour, indent=2, default=float) + "\n")
    plt = _pyplot()
    fig = _behaviour_axes(table, env, plt, behaviour)
    missing = f", {behaviour['no_response_fraction']:.1%} without a response" if behaviour["no_response_fraction"] else ""
    fig.suptitle(f"{run.task}: accuracy {behaviour['accuracy_responded']:.3f}{missing}", fontsize=9)
    fig.tight_layout()
    fig.savefig(dest / "behaviour.png", dpi=120)
    plt.close(fig)
    summary = {"task": run.task, "accuracy": behaviour["accuracy_responded"],
               "no_response_fraction": behaviour["no_response_fraction"], "n_trials": len(table),
               "task_options": run.task_options}
    condition, align = getattr(env, "report_condition", None), getattr(env, "report_align", None)
    if condition is not None:
        rates = out.rates[backend.output_area].numpy()
        start = table[align].to_numpy()
        response = trials.response.numpy().argmax(1)
        stop = np.where(response > start, response, start + int(400 / trials.dt))
        p = selectivity(rates, table, condition, start, stop)
        best = np.argsort(p)[:n_units]
        psth = condition_psth(rates[..., best], table, [condition], align, trials.dt,
                              (-100.0, float((stop - start).max() * trials.dt)))
        fig, axes = plt.subplots(1, len(best), figsize=(3.2 * len(best), 3), squeeze=False)
        for ax, j in zip(axes[0], range(len(best))):
            for c in range(psth.sizes["condition"]):
                ax.plot(psth["time"], psth[c, j], label=f"{psth[condition].values[c]}")
            ax.set(title=f"unit {best[j]} (p={p[best[j]]:.1e})", xlabel=f"ms from {align[:-6]} onset")
        axes[0][0].legend(frameon=False, fontsize=7, title=condition)
        fig.tight_layout()
        fig.savefig(dest / "psth.png", dpi=120)
        plt.close(fig)
        summary.update({"condition": condition, "selective_fraction": float(np.mean(p < SELECTIVITY_P)),
                        "n_units": int(rates.shape[-1])})
    with atomic_path(dest / "tuning.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
