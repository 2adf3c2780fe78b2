"""Compare a back-end trained on ``random-dot-motion`` with LIP recordings and monkey behaviour.

Conditions are coherence x choice (correct trials, and every 0% trial). LIP: per-trial rates of
54 units aligned to motion onset (up to 100 ms before the saccade) and to the saccade, in bins
of the model's step. Model: back-end output-area units that prefer choice 1 (the target in the
neurons' response field), chosen on one half of the model's trials, averaged on the other
half, aligned to motion onset (up to 100 ms before the decision) and to the decision.

Headline (:mod:`.observations`): the coherence dependence of the build-up rate within each
choice, with bootstrap intervals, passed only when the Tin - Tout contrast of the coherence
slopes lies above 0; every observation of the paper is reported pass/fail beside LIP's own
values, and the controls of :mod:`.controls` (choice-only, coherence-shuffled, untrained
back-ends) are scored the same way. Behaviour (:mod:`.behaviour`): psychometric and chronometric
curves of model (with a fitted non-decision time) and monkeys. Secondary, kept from the first
version: the Pearson correlation across conditions of the build-up rates and the mean
across-condition correlation of the motion-aligned trajectories (100-500 ms), each against
condition shuffles; a choice-only signal reaches the trajectory correlation of a trained model.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from neurovision.backend.behaviour import chronometric, fit_logistic, psychometric
from neurovision.backend.cache import FeatureCache, feature_trials
from neurovision.backend.evaluation import align_steps, condition_psth, correct_actions, decide, run_network
from neurovision.backend.multiarea import MultiAreaModel
from neurovision.backend.trials import draw_trials
from neurovision.data.lip import aligned_rates, load_roitman, population_psth
from neurovision.errors import DataError

from .behaviour import behaviour_summary
from .controls import choice_only, untrained as untrained_rates, untrained_backend_factory
from .observations import (NEURAL_OBSERVATIONS, TrialRates, headline_pass, population_draws, statistics,
                           window_slopes)

MOTION_WINDOW, DECISION_WINDOW = (0.0, 600.0), (-500.0, 0.0)
BUILDUP_WINDOW, TRAJECTORY_WINDOW = (200.0, 400.0), (100.0, 500.0)
EXCLUSION_MS = 100.0
CONDITIONS = ["coherence", "choice"]


def used_trials(table: pd.DataFrame) -> np.ndarray:
    """Correct trials, and every trial at 0% coherence (as in the paper's averages)."""
    return (table["correct"].astype(bool) | (table["coherence"] == 0)).to_numpy()


def buildup_rates(psth: xr.DataArray, window=BUILDUP_WINDOW, min_bins: int = 3) -> np.ndarray:
    """Least-squares slope (units/s) of each condition's PSTH over the finite bins inside
    ``window`` (ms); NaN for a condition with fewer than ``min_bins`` (e.g. all its trials
    decided before the window ends: PSTHs stop 100 ms before the decision)."""
    return window_slopes(psth.values, psth["time"].values, window, min_bins)


def finite_correlation(a: np.ndarray, b: np.ndarray, min_pairs: int = 4) -> float:
    """Pearson correlation over the pairs where both are finite (NaN below ``min_pairs``)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < min_pairs or a[ok].std() == 0 or b[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def trajectory_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over time bins of the across-condition Pearson correlation of ``a`` and ``b`` (cond x time)."""
    rs = []
    for j in range(a.shape[1]):
        ok = np.isfinite(a[:, j]) & np.isfinite(b[:, j])
        if ok.sum() >= 3 and a[ok, j].std() > 0 and b[ok, j].std() > 0:
            rs.append(np.corrcoef(a[ok, j], b[ok, j])[0, 1])
    return float(np.mean(rs)) if rs else float("nan")


def shuffle_test(statistic, model: np.ndarray, n_shuffles: int, seed: int) -> tuple[float, np.ndarray, float]:
    """``statistic(model)``, its values with the model's conditions (rows) permuted, and p."""
    rng = np.random.default_rng(seed)
    observed = statistic(model)
    null = np.array([statistic(model[rng.permutation(len(model))]) for _ in range(n_shuffles)])
    return observed, null, float((1 + np.sum(null >= observed)) / (1 + n_shuffles))


def compare(lip_motion: xr.DataArray, model_motion: xr.DataArray, n_shuffles: int = 1000, seed: int = 0) -> dict:
    """Build-up and trajectory scores of model vs LIP PSTHs (same conditions and time grid)."""
    lip_keys = list(zip(*(lip_motion[c].values for c in CONDITIONS)))
    model_keys = list(zip(*(model_motion[c].values for c in CONDITIONS)))
    common = [k for k in lip_keys if k in model_keys]
    if len(common) < 4:
        raise DataError(f"model and LIP share only {len(common)} conditions; need at least 4")
    lip = lip_motion.isel(condition=[lip_keys.index(k) for k in common])
    model = model_motion.isel(condition=[model_keys.index(k) for k in common]).interp(time=lip["time"].values)
    lip_buildup = buildup_rates(lip)
    model_buildup = buildup_rates(model)
    t = lip["time"].values
    bins = (t >= TRAJECTORY_WINDOW[0]) & (t <= TRAJECTORY_WINDOW[1])
    r_buildup, null_buildup, p_buildup = shuffle_test(
        lambda m: finite_correlation(lip_buildup, m), model_buildup, n_shuffles, seed)
    r_traj, null_traj, p_traj = shuffle_test(
        lambda m: trajectory_similarity(lip.values[:, bins], m), model.values[:, bins], n_shuffles, seed + 1)
    return {
        "conditions": pd.DataFrame({"coherence": [k[0] for k in common], "choice": [k[1] for k in common],
                                    "lip_buildup": lip_buildup, "model_buildup": model_buildup}),
        "buildup_r": r_buildup, "buildup_shuffled_mean": float(np.nanmean(null_buildup)), "buildup_p": p_buildup,
        "buildup_conditions": int(np.sum(np.isfinite(lip_buildup) & np.isfinite(model_buildup))),
        "trajectory_r": r_traj, "trajectory_shuffled_mean": float(np.nanmean(null_traj)), "trajectory_p": p_traj,
    }


@dataclass
class ModelBehaviour:
    """Per-trial table (conditions, choice, correct, decision_ms), back-end rates (N, T, units)
    and the back-end's inputs (for untrained controls on the same trials)."""

    table: pd.DataFrame
    rates: np.ndarray
    dt: float
    inputs: object = None


def model_behaviour(model, env, n_trials: int, seed: int, threshold: float, cache_dir=None) -> ModelBehaviour:
    """Run ``model`` (a back-end or a MultiAreaModel) on fresh trials of the dots task."""
    if isinstance(model, MultiAreaModel):
        cache = FeatureCache(cache_dir) if cache_dir is not None else None
        trials, backend = feature_trials(model, env, n_trials, seed, cache, progress=False), model.backend
    else:
        trials, backend = draw_trials(env, n_trials, seed), model
    out = run_network(backend, trials.inputs, record=True, seed=seed)
    table = pd.concat([trials.info.reset_index(drop=True), decide(out.logits, trials, "threshold", threshold)], axis=1)
    table["correct"] = table["choice"] == correct_actions(trials)
    return ModelBehaviour(table, out.rates[backend.output_area].numpy(), trials.dt, trials.inputs)


def decision_steps(table: pd.DataFrame, dt: float) -> np.ndarray:
    """Step index of each trial's threshold crossing (NaN without a response)."""
    return table["stimulus_start"].to_numpy() + table["decision_ms"].to_numpy() / dt - 1


def select_units(behaviour: ModelBehaviour, select_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Units preferring choice 1 over the first 400 ms of motion, chosen on a random half of the
    used trials (correct or 0 %, with a response), and the other half (bool, N) to average."""
    table, rates, dt = behaviour.table, behaviour.rates, behaviour.dt
    keep = used_trials(table) & table["responded"].to_numpy()
    rng = np.random.default_rng(select_seed)
    half = rng.random(len(table)) < 0.5
    start = table["stimulus_start"].to_numpy()
    motion_steps = (np.arange(rates.shape[1])[None] >= start[:, None]) & (np.arange(rates.shape[1])[None] < (start + 400 / dt)[:, None])
    mean_rate = (rates * motion_steps[..., None]).sum(1) / motion_steps.sum(1, keepdims=True)
    sel = keep & half
    prefers = mean_rate[sel & (table["choice"] == 1).to_numpy()].mean(0) > mean_rate[sel & (table["choice"] == 2).to_numpy()].mean(0)
    units = np.flatnonzero(prefers & (mean_rate[sel].mean(0) > 0))
    if units.size == 0:
        raise DataError("no back-end unit prefers choice 1; is the model trained on random-dot-motion?")
    return units, keep & ~half


def model_psths(behaviour: ModelBehaviour, select_seed: int = 0) -> tuple[xr.DataArray, xr.DataArray, np.ndarray]:
    """Motion- and decision-aligned PSTHs of the choice-1-preferring units, and those units."""
    rates, units = model_trial_rates(behaviour, select_seed)
    return psth_array(rates, "motion"), psth_array(rates, "response"), units


def psth_array(rates: TrialRates, align: str) -> xr.DataArray:
    """Population PSTH ``condition x time`` (``align``: "motion" or "response") with
    ``coherence`` and ``choice`` coordinates."""
    keys = rates.conditions()
    values = population_draws(rates, getattr(rates, align), 0, 0)[0]
    return xr.DataArray(values, dims=("condition", "time"), name="psth",
                        coords={"coherence": ("condition", [k[0] for k in keys]),
                                "choice": ("condition", [k[1] for k in keys]),
                                "time": getattr(rates, f"{align}_time")})


def model_trial_rates(behaviour: ModelBehaviour, select_seed: int = 0) -> tuple[TrialRates, np.ndarray]:
    """Per-trial population rates of the choice-1-preferring units (held-out half), aligned to
    motion onset (up to 100 ms before the decision) and to the decision, and those units."""
    table, rates, dt = behaviour.table, behaviour.rates, behaviour.dt
    units, test = select_units(behaviour, select_seed)
    decision = decision_steps(table, dt)[test]
    rows = table[test].reset_index(drop=True)
    population = rates[test][..., units].mean(-1, keepdims=True)
    truncated = rows.assign(length=np.minimum(rows["length"], decision - EXCLUSION_MS / dt + 1))
    motion, motion_time = align_steps(population, truncated, "stimulus_start", dt, MOTION_WINDOW)
    response, response_time = align_steps(population, rows, decision, dt, DECISION_WINDOW)
    return TrialRates(motion[..., 0], motion_time, response[..., 0], response_time,
                      rows["coherence"].to_numpy(float), rows["choice"].to_numpy(int), np.zeros(len(rows), int)), units


def lip_trial_rates(bin_ms: float, data=None) -> TrialRates:
    """Per-trial LIP rates (correct and 0 % trials) aligned to motion onset and to the saccade."""
    data = data or load_roitman()
    used = used_trials(data.trials)
    motion = aligned_rates(data, "motion", MOTION_WINDOW, bin_ms)
    saccade = aligned_rates(data, "saccade", DECISION_WINDOW, bin_ms)
    rows = data.trials[used]
    return TrialRates(motion.values[used], motion["time"].values, saccade.values[used], saccade["time"].values,
                      rows["coherence"].to_numpy(float), rows["choice"].to_numpy(int), rows["unit"].to_numpy(int))


def lip_psths(bin_ms: float, data=None) -> tuple[xr.DataArray, xr.DataArray]:
    """LIP population PSTHs aligned to motion onset and to the saccade (bins of ``bin_ms``)."""
    data = data or load_roitman()
    used = used_trials(data.trials)
    motion = population_psth(data, aligned_rates(data, "motion", MOTION_WINDOW, bin_ms), tuple(CONDITIONS), used)
    saccade = population_psth(data, aligned_rates(data, "saccade", DECISION_WINDOW, bin_ms), tuple(CONDITIONS), used)
    return motion, saccade


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_psths(panels: dict[str, xr.DataArray], path):
    """One panel per PSTH (title -> ``condition x time``): colour = coherence, solid = choice 1,
    dashed = choice 2."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), squeeze=False)
    colours = plt.get_cmap("viridis")
    for ax, (title, psth) in zip(axes[0], panels.items()):
        cohs = sorted(set(psth["coherence"].values))
        for j in range(psth.sizes["condition"]):
            coh, choice = float(psth["coherence"][j]), int(psth["choice"][j])
            ax.plot(psth["time"], psth[j], color=colours(cohs.index(coh) / max(len(cohs) - 1, 1)),
                    linestyle="-" if choice == 1 else "--", label=f"{coh:g}%" if choice == 1 else None)
        ax.set(title=title, xlabel="time (ms)")
    axes[0][0].legend(frameon=False, fontsize=7, title="coherence (solid: choice 1)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_behaviour(model_table: pd.DataFrame, monkey_table: pd.DataFrame, path):
    """Psychometric (P(choice 1) vs signed coherence) and chronometric curves, model vs monkeys."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    for table, label, colour in ((monkey_table, "monkeys (LIP sessions)", "k"), (model_table, "model", "tab:red")):
        curve = psychometric(table, "signed_coherence", 1)
        fit = fit_logistic(curve["signed_coherence"], curve["p"] * curve["n"], curve["n"])
        xs = np.linspace(curve["signed_coherence"].min(), curve["signed_coherence"].max(), 200)
        lam = fit["lapse"]
        left.plot(xs, lam / 2 + (1 - lam) / (1 + np.exp(-(xs - fit["bias"]) / fit["scale"])), color=colour)
        left.errorbar(curve["signed_coherence"], curve["p"], curve["sem"], fmt="o", color=colour, label=label)
        chrono = chronometric(table.assign(coherence=table["signed_coherence"].abs()), "coherence")
        right.errorbar(chrono["coherence"], chrono["rt_ms"], chrono["sem"], fmt="o-", color=colour, label=label)
    left.set(xlabel="motion strength toward choice 1 (% coherence)", ylabel="P(choice 1)")
    right.set(xlabel="motion strength (% coherence)", ylabel="mean reaction time (ms)", xscale="symlog")
    right.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def _control_scores(stats: dict) -> dict:
    keys = ("normalised_contrast", "buildup_coherence_slope_tin", "buildup_coherence_slope_tout")
    return {"headline_pass": headline_pass(stats), **{k: stats[k] for k in keys}}


def neural_table(lip: dict, model: dict) -> list[dict]:
    """Pass/fail rows of the paper's LIP observations for the model (LIP's own values beside)."""
    return [{"observation": text, "statistic": key, "model": model[key], "model_pass": test(model[key]),
             "reference": lip[key], "reference_pass": test(lip[key])} for text, key, test in NEURAL_OBSERVATIONS]


class Roitman2002LIP:
    """``benchmark(candidate) -> score``: the model's coherence-graded build-up as a fraction of
    LIP's (normalised Tin - Tout contrast of the coherence slopes, :mod:`.observations`); attrs
    hold the pass/fail criterion with bootstrap intervals, the table of the paper's observations,
    the controls (choice-only, coherence-shuffled, untrained back-ends) scored the same way, the
    behaviour (:mod:`.behaviour`) and, labelled secondary, the earlier correlation statistics.

    ``candidate``: a ``neurovision train task`` run folder of ``random-dot-motion`` (its
    evaluation trials and feature cache are reused unless ``n_trials``/``seed`` say otherwise),
    or a pair ``(model, env)`` with a trained back-end or MultiAreaModel and its task (then the
    untrained control needs ``untrained``, a ``seed -> back-end`` factory).
    """

    identifier = "roitman2002.LIP"

    def __init__(self, n_trials: int | None = None, threshold: float | None = None, seed: int | None = None,
                 n_shuffles: int = 1000, data_path=None, n_boot: int = 500, untrained_seeds=(0, 1, 2),
                 untrained=None):
        self.n_trials, self.threshold, self.seed, self.n_shuffles = n_trials, threshold, seed, n_shuffles
        self.data_path, self.n_boot, self.untrained_seeds, self.untrained = data_path, n_boot, untrained_seeds, untrained

    def _candidate(self, candidate, cache_dir):
        """``(model, env, threshold, n_trials, seed, cache_dir, untrained factory)`` of a candidate."""
        if isinstance(candidate, (str, Path)):
            from neurovision.backend.experiment import EVAL_SEED_OFFSET, load_run, run_cache_dir

            run, env, model = load_run(candidate)
            if run.task != "random-dot-motion":
                raise DataError(f"{candidate} was trained on {run.task!r}; this benchmark needs 'random-dot-motion'")
            seed = self.seed if self.seed is not None else run.seed + EVAL_SEED_OFFSET
            return (model, env, self.threshold or run.threshold, self.n_trials or run.eval_trials, seed,
                    cache_dir or run_cache_dir(candidate), self.untrained or untrained_backend_factory(run))
        model, env = candidate
        return model, env, self.threshold or 0.8, self.n_trials or 1000, self.seed or 0, cache_dir, self.untrained

    def _controls(self, behaviour, rates: TrialRates, model, untrained, lip_motion, seed) -> dict:
        """Each control's headline statistics and (secondary) trajectory correlation, or what is missing."""
        variants = {"choice-only": lambda: model_trial_rates(choice_only(behaviour), seed)[0],
                    "coherence-shuffled": lambda: rates.shuffled_coherence(seed)}
        trained = getattr(model, "backend", model)
        for s in self.untrained_seeds:
            variants[f"untrained seed {s}"] = (lambda s=s: model_trial_rates(
                untrained_rates(behaviour, untrained(s, trained), s), seed)[0]) if untrained else None
        out = {}
        for name, make in variants.items():
            if make is None:
                out[name] = {"missing": "no untrained back-end: give a run folder or untrained=<seed -> back-end>"}
                continue
            try:
                control = make()
                out[name] = {**_control_scores(statistics(control, self.n_boot, seed)),
                             "trajectory_r": compare(lip_motion, psth_array(control, "motion"), 0, seed)["trajectory_r"]}
            except DataError as exc:
                out[name] = {"missing": str(exc)}
        return out

    def __call__(self, candidate, cache_dir=None, figures=None) -> xr.DataArray:
        """Score ``candidate``; ``figures``: a folder for ``behaviour.png`` and ``psth.png``."""
        model, env, threshold, n_trials, seed, cache_dir, untrained = self._candidate(candidate, cache_dir)
        behaviour = model_behaviour(model, env, n_trials, seed, threshold, cache_dir)
        data = load_roitman(self.data_path)
        behaviour_stats, timed = behaviour_summary(behaviour.table, data.trials, self.n_boot, seed)
        behaviour = dataclasses.replace(behaviour, table=timed)
        rates, units = model_trial_rates(behaviour, seed)
        model_motion, model_decision = psth_array(rates, "motion"), psth_array(rates, "response")
        lip_motion, lip_saccade = lip_psths(behaviour.dt, data)
        lip_stats = statistics(lip_trial_rates(behaviour.dt, data), self.n_boot, seed)
        model_stats = statistics(rates, self.n_boot, seed)
        secondary = compare(lip_motion, model_motion, self.n_shuffles, seed)
        if figures is not None:
            Path(figures).mkdir(parents=True, exist_ok=True)
            plot_behaviour(timed, data.trials, Path(figures) / "behaviour.png")
            plot_psths({"LIP, motion onset (spikes/s)": lip_motion, "LIP, saccade": lip_saccade,
                        "model, motion onset (rate)": model_motion, "model, decision": model_decision},
                       Path(figures) / "psth.png")
        score = model_stats["normalised_contrast"]["estimate"] / lip_stats["normalised_contrast"]["estimate"]
        return xr.DataArray(score, name="score", attrs={
            "benchmark": self.identifier,
            "headline": "normalised Tin - Tout contrast of the build-up rate's coherence slope, model / LIP",
            "headline_pass": headline_pass(model_stats), "lip_headline_pass": headline_pass(lip_stats),
            **{f"model_{k}": v for k, v in _control_scores(model_stats).items() if k != "headline_pass"},
            **{f"lip_{k}": v for k, v in _control_scores(lip_stats).items() if k != "headline_pass"},
            "controls": self._controls(behaviour, rates, model, untrained, lip_motion, seed),
            "observations": neural_table(lip_stats, model_stats) + behaviour_stats.pop("observations"),
            "behaviour": behaviour_stats, "n_boot": self.n_boot,
            "secondary": "buildup_r and trajectory_r: correlations across conditions with LIP; a choice-only "
                         "signal reaches the trajectory_r of a trained model (see controls)",
            **{k: v for k, v in secondary.items() if k != "conditions"},
            "n_model_units": int(units.size),
            "model_accuracy": behaviour_stats["model"]["accuracy_responded"],
            "no_response_fraction": behaviour_stats["model"]["no_response_fraction"],
            "conditions": secondary["conditions"].to_json(orient="records"),
        })
