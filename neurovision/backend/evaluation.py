"""Behaviour of a trained network on fresh trials: choices, accuracy against chance, PSTHs.

Actions follow NeuroGym: 0 = fixate, 1..K = the K choices. Three decision read-outs:

* ``mean``: the choice with the largest softmax probability averaged over the response period;
* ``threshold`` (reaction-time tasks): the first response step at which a choice's probability
  reaches ``threshold`` gives the choice and the decision time ``decision_ms`` (ms after the
  response period starts); the reaction time ``rt_ms`` adds a non-decision time (sensory and
  motor latencies the network does not model, ``non_decision_ms``, stated by the caller, 0 by
  default). Trials that never cross have no response: ``choice = 0``, ``responded = False``,
  no RT; accuracy is counted on the trials with a response and the fraction without one is
  reported beside it;
* ``ring`` (saccades): the population vector of the K choice probabilities, read as an angle
  on a ring of K equally spaced targets, gives the nearest target.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import xarray as xr
from scipy.stats import binomtest

from ..errors import DataError, UnknownIdError
from .network import BackendOutput
from .trials import Trials

DECISION_RULES = ("mean", "threshold", "ring")


def decision_rule(env) -> str:
    """The read-out a task asks for (``env.decision_rule``, default ``mean``)."""
    return getattr(env, "decision_rule", "mean")


@torch.no_grad()
def run_network(model, inputs: torch.Tensor, batch_size: int = 250, record: bool = False,
                seed: int | None = None) -> BackendOutput:
    """``model(inputs)`` in batches, without gradients; outputs concatenated on the CPU.
    ``seed`` fixes the network's noise (torch's global generator is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        parts = [model(inputs[i:i + batch_size], record=record) for i in range(0, len(inputs), batch_size)]
    logits = torch.cat([p.logits.cpu() for p in parts])
    rates = {a: torch.cat([p.rates[a].cpu() for p in parts]) for a in parts[0].rates}
    return BackendOutput(logits, rates)


def correct_actions(trials: Trials) -> np.ndarray:
    """The target action of each trial during its response period (N,)."""
    targets = trials.targets.numpy()
    out = np.empty(len(trials), dtype=np.int64)
    for i, response in enumerate(trials.response.numpy()):
        values = targets[i, response]
        if values.size == 0:
            raise DataError(f"trial {i} has no response step")
        out[i] = np.bincount(values).argmax()
    return out


def decide(logits: torch.Tensor, trials: Trials, rule: str = "mean", threshold: float = 0.8,
           non_decision_ms: float = 0.0) -> pd.DataFrame:
    """Choices (and decision and reaction times in ms) of ``logits`` (N, T, 1 + K) under ``rule``."""
    if rule not in DECISION_RULES:
        raise UnknownIdError("decision rule", rule, list(DECISION_RULES))
    probs = torch.softmax(logits.float(), -1)[..., 1:].numpy()
    response = trials.response.numpy()
    n, k = len(trials), probs.shape[-1]
    rt = np.full(n, np.nan)
    responded = np.ones(n, dtype=bool)
    if rule == "threshold":
        choice = np.empty(n, dtype=np.int64)
        for i in range(n):
            steps = np.flatnonzero(response[i])
            crossed = steps[probs[i, steps].max(-1) >= threshold]
            responded[i] = bool(crossed.size)
            choice[i] = 1 + probs[i, crossed[0]].argmax() if crossed.size else 0
            rt[i] = (crossed[0] - steps[0] + 1) * trials.dt if crossed.size else np.nan
    else:
        weights = response / response.sum(1, keepdims=True)
        mean = np.einsum("nt,ntk->nk", weights, probs)
        if rule == "mean":
            choice = 1 + mean.argmax(1)
        else:
            angles = 2 * np.pi * np.arange(k) / k
            vector = mean @ np.exp(1j * angles)
            choice = 1 + np.round(np.angle(vector) / (2 * np.pi / k)).astype(np.int64) % k
    return pd.DataFrame({"choice": choice, "decision_ms": rt, "rt_ms": rt + non_decision_ms,
                         "non_decision_ms": non_decision_ms if rule == "threshold" else np.nan,
                         "responded": responded})


@dataclass
class Evaluation:
    """Accuracy on the ``n_responded`` of ``n_trials`` fresh trials that got a response (all of
    them but in reaction-time tasks) against ``chance`` (one-sided binomial ``p_value``), the
    ideal observer's accuracy on the same trials when the task defines one, and ``table`` (trial
    conditions + ``choice``, ``correct``, ``decision_ms``, ``rt_ms``, ``responded``)."""

    accuracy: float
    chance: float
    n_trials: int
    p_value: float
    ideal_accuracy: float | None
    table: pd.DataFrame
    n_responded: int | None = None

    def summary(self) -> dict:
        """Plain numbers for logs and JSON (reaction-time tasks add the fraction of trials
        without a response, accuracy counting those as errors, decision and reaction times)."""
        out = {"accuracy": self.accuracy, "chance": self.chance, "n_trials": self.n_trials,
               "p_value_vs_chance": self.p_value}
        if self.ideal_accuracy is not None:
            out["ideal_observer_accuracy"] = self.ideal_accuracy
        if self.table["non_decision_ms"].notna().any():
            responded = self.table["responded"]
            out.update({"n_responded": int(responded.sum()), "responded": float(responded.mean()),
                        "no_response_fraction": float(1 - responded.mean()),
                        "accuracy_all_trials": float(self.table["correct"].mean()),
                        "mean_decision_ms": float(self.table["decision_ms"].mean()),
                        "non_decision_ms": float(self.table["non_decision_ms"].iloc[0]),
                        "mean_rt_ms": float(self.table["rt_ms"].mean())})
        return out


def evaluate(model, trials: Trials, rule: str = "mean", threshold: float = 0.8,
             batch_size: int = 250, non_decision_ms: float = 0.0) -> Evaluation:
    """Run ``model`` on ``trials`` (their ``inputs`` as the model takes them) and score choices
    (accuracy and the binomial test on the trials with a response)."""
    logits = run_network(model, trials.inputs, batch_size).logits
    choices = decide(logits, trials, rule, threshold, non_decision_ms)
    table = pd.concat([trials.info.reset_index(drop=True), choices], axis=1)
    table["target"] = correct_actions(trials)
    table["correct"] = table["choice"] == table["target"]
    n, hits = int(table["responded"].sum()), int(table["correct"].sum())
    if n == 0:
        raise DataError(f"none of the {len(table)} trials reached the decision threshold {threshold}; "
                        "no accuracy can be given (lower the threshold or train longer)")
    chance = 1.0 / (logits.shape[-1] - 1)
    ideal = float((table["ideal_choice"] == table["target"]).mean()) if "ideal_choice" in table else None
    return Evaluation(hits / n, chance, len(table), float(binomtest(hits, n, chance, alternative="greater").pvalue),
                      ideal, table, n)


def align_steps(rates: np.ndarray, table: pd.DataFrame, align, dt: float,
                window_ms: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial activity ``(N, time, U)`` aligned to ``align`` (a column of ``table`` holding
    step indices, or an array of them) over ``window_ms``, and the times (ms); steps before 0,
    past a trial's ``length`` column or with a NaN alignment are NaN."""
    anchor = np.asarray(table[align] if isinstance(align, str) else align, dtype=float)
    lengths = np.asarray(table["length"]) if "length" in table else np.full(len(anchor), rates.shape[1])
    offsets = np.arange(int(np.floor(window_ms[0] / dt)), int(np.ceil(window_ms[1] / dt)) + 1)
    aligned = np.full((rates.shape[0], len(offsets), rates.shape[2]), np.nan)
    for i, a in enumerate(anchor):
        if np.isnan(a):
            continue
        steps = int(a) + offsets
        ok = (steps >= 0) & (steps < lengths[i])
        aligned[i, ok] = rates[i, steps[ok]]
    return aligned, offsets * dt


def condition_psth(rates: np.ndarray, table: pd.DataFrame, by: list[str], align, dt: float,
                   window_ms: tuple[float, float]) -> xr.DataArray:
    """Condition-averaged activity ``condition x neuroid x time`` (time in ms from alignment).

    ``rates`` (N, T, U) per trial and step; ``align`` is a column of ``table`` holding the step
    index to align each trial to (e.g. ``stimulus_start``) or an array of such indices; steps
    outside a trial (before 0, past its ``length`` column, or NaN alignment) are left out.
    """
    rates = np.asarray(rates, dtype=np.float64)
    aligned, times = align_steps(rates, table, align, dt, window_ms)
    groups = table.reset_index(drop=True).groupby(list(by), sort=True).indices
    keys = list(groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # steps no trial reaches average to NaN
        data = np.stack([np.nanmean(aligned[groups[k]], 0).T for k in keys])
    labels = [k if isinstance(k, tuple) else (k,) for k in keys]
    coords = {name: ("condition", [lab[j] for lab in labels]) for j, name in enumerate(by)}
    return xr.DataArray(
        data, dims=("condition", "neuroid", "time"),
        coords={**coords, "neuroid_id": ("neuroid", np.arange(rates.shape[2])),
                "time": times, "n_trials": ("condition", [len(groups[k]) for k in keys])},
        name="psth", attrs={"align": align if isinstance(align, str) else "custom", "dt_ms": dt})
