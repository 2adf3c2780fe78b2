"""Roitman & Shadlen's LIP observations as statistics with bootstrap intervals.

Activity enters as :class:`TrialRates`: per-trial rates aligned to motion onset and to the
response (saccade, or the model's threshold crossing), with each trial's coherence, choice
(1 = Tin, the target in the response field) and unit (a model population is one unit). A
population PSTH is the mean over units of each unit's condition mean; intervals come from
resampling trials with replacement within each unit and condition (``n_boot`` draws).

Headline (:func:`coherence_slopes`): the build-up rate (slope of the motion-aligned PSTH 200-400
ms after motion onset, rate/s) of each coherence x choice condition, regressed on coherence
within each choice. LIP's Tin build-up rises with coherence and its Tout build-up falls. The
normalised contrast is the Tin - Tout slope difference divided by the spread (standard
deviation over conditions and bins) of the motion-aligned PSTHs, so spikes/s and model rates
compare; the criterion passes when its 95 % interval lies above 0. A choice-only signal (flat
in time) has contrast 0 exactly; the score is the model's contrast as a fraction of LIP's.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from neurovision.backend.psychometric import interval
from neurovision.errors import DataError

BUILDUP_WINDOW, PRE_RESPONSE_WINDOW = (200.0, 400.0), (-150.0, -50.0)
MIN_BINS, MIN_COHERENCES = 3, 3
TIN, TOUT = 1, 2


@dataclass
class TrialRates:
    """Aligned per-trial rates: ``motion`` (N, T) at ``motion_time`` ms from motion onset,
    ``response`` (N, S) at ``response_time`` ms from the response; NaN where unusable."""

    motion: np.ndarray
    motion_time: np.ndarray
    response: np.ndarray
    response_time: np.ndarray
    coherence: np.ndarray
    choice: np.ndarray
    unit: np.ndarray

    def shuffled_coherence(self, seed: int) -> "TrialRates":
        """The same trials with coherence labels permuted among the trials of each choice."""
        rng = np.random.default_rng(seed)
        coherence = self.coherence.copy()
        for c in np.unique(self.choice):
            rows = np.flatnonzero(self.choice == c)
            coherence[rows] = coherence[rng.permutation(rows)]
        return replace(self, coherence=coherence)

    def conditions(self) -> list[tuple[float, int]]:
        return sorted(set(zip(self.coherence.tolist(), self.choice.tolist())))


def population_draws(rates: TrialRates, values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Population PSTHs ``(1 + n_boot, condition, time)``: row 0 from the trials as they are,
    then ``n_boot`` draws resampling trials within each unit and condition."""
    rng = np.random.default_rng(seed)
    keys = rates.conditions()
    total = np.zeros((1 + n_boot, len(keys), values.shape[1]))
    count = np.zeros_like(total)
    for j, (coh, choice) in enumerate(keys):
        in_condition = (rates.coherence == coh) & (rates.choice == choice)
        for u in np.unique(rates.unit[in_condition]):
            rows = np.flatnonzero(in_condition & (rates.unit == u))
            draws = np.vstack([rows, rows[rng.integers(0, rows.size, (n_boot, rows.size))]])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # bins no trial reaches: NaN
                mean = np.nanmean(values[draws], axis=1)
            ok = np.isfinite(mean)
            total[:, j] += np.where(ok, mean, 0.0)
            count[:, j] += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def masked_slope(x: np.ndarray, y: np.ndarray, min_points: int) -> np.ndarray:
    """Least-squares slope of ``y`` (..., K) on ``x`` (K,) over its finite entries; NaN where
    fewer than ``min_points`` are finite or ``x`` does not vary among them."""
    ok = np.isfinite(y)
    n = ok.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (ok * x).sum(-1) / n
        ym = np.where(ok, y, 0.0).sum(-1) / n
        dx = np.where(ok, x - xm[..., None], 0.0)
        dy = np.where(ok, y - ym[..., None], 0.0)
        slope = (dx * dy).sum(-1) / (dx * dx).sum(-1)
    return np.where(n >= min_points, slope, np.nan)


def window_slopes(psths: np.ndarray, time: np.ndarray, window=BUILDUP_WINDOW, min_bins: int = MIN_BINS) -> np.ndarray:
    """Build-up rates (rate per s) of PSTHs (..., time) over ``window`` (ms)."""
    inside = (time >= window[0]) & (time <= window[1])
    return masked_slope(time[inside] / 1000.0, psths[..., inside], min_bins)


def window_means(psths: np.ndarray, time: np.ndarray, window) -> np.ndarray:
    inside = (time >= window[0]) & (time <= window[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(psths[..., inside], -1)


def _per_choice(keys, values: np.ndarray, choice: int) -> tuple[np.ndarray, np.ndarray]:
    cols = [j for j, k in enumerate(keys) if k[1] == choice]
    return np.array([keys[j][0] for j in cols]), values[..., cols]


def _estimate(draws: np.ndarray) -> dict:
    return {"estimate": float(draws[0]), "ci": list(interval(draws[1:]))}


def statistics(rates: TrialRates, n_boot: int = 500, seed: int = 0) -> dict:
    """Every statistic of the observations, each ``{"estimate", "ci"}`` (see module doc)."""
    keys = rates.conditions()
    missing = [c for c in (TIN, TOUT) if len({k[0] for k in keys if k[1] == c}) < MIN_COHERENCES]
    if missing:
        raise DataError(f"choice(s) {missing} have trials at fewer than {MIN_COHERENCES} coherences "
                        f"(conditions present: {keys}); the coherence dependence needs at least {MIN_COHERENCES}")
    motion = population_draws(rates, rates.motion, n_boot, seed)
    response = population_draws(rates, rates.response, n_boot, seed + 1)
    buildup = window_slopes(motion, rates.motion_time)
    scale = np.nanstd(motion.reshape(motion.shape[0], -1), axis=1)
    out = {"conditions": keys, "buildup": buildup[0].tolist(), "psth_scale": float(scale[0])}
    slopes = {}
    for choice, name in ((TIN, "tin"), (TOUT, "tout")):
        coh, values = _per_choice(keys, buildup, choice)
        slopes[name] = masked_slope(coh, values, MIN_COHERENCES)
        out[f"buildup_coherence_slope_{name}"] = _estimate(slopes[name])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["normalised_contrast"] = _estimate((slopes["tin"] - slopes["tout"]) / scale)
    level = window_means(response, rates.response_time, PRE_RESPONSE_WINDOW)
    coh_in, level_in = _per_choice(keys, level, TIN)
    coh_out, level_out = _per_choice(keys, level, TOUT)
    shared = np.intersect1d(coh_in, coh_out)
    separation = np.nanmean(level_in[..., np.isin(coh_in, shared)] - level_out[..., np.isin(coh_out, shared)], -1)
    out["pre_response_separation"] = _estimate(separation)
    zero_in, zero_out = level_in[..., coh_in == 0], level_out[..., coh_out == 0]
    out["zero_coherence_separation"] = (_estimate((zero_in - zero_out)[..., 0]) if zero_in.shape[-1] and zero_out.shape[-1]
                                        else {"estimate": float("nan"), "ci": [float("nan")] * 2,
                                              "missing": "no 0% trials of both choices"})
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = masked_slope(coh_in, level_in, MIN_COHERENCES) * (coh_in.max() - coh_in.min()) / separation
    out["pre_response_tin_coherence_spread"] = _estimate(spread)
    return out


def _above(s):
    return bool(s["ci"][0] > 0)


def _below(s):
    return bool(s["ci"][1] < 0)


def headline_pass(stats: dict) -> bool:
    """The Tin build-up's coherence slope exceeds the Tout one (normalised contrast > 0, interval
    excluding 0): build-up graded by coherence in opposite directions for the two choices."""
    return _above(stats["normalised_contrast"])


#: (observation, statistic, test) of the LIP part of the paper; tests take the statistic's dict
NEURAL_OBSERVATIONS = [
    ("Tin build-up rate (200-400 ms) rises with coherence", "buildup_coherence_slope_tin", _above),
    ("Tout build-up rate (200-400 ms) falls with coherence", "buildup_coherence_slope_tout", _below),
    ("activity before the response is higher for Tin than Tout choices", "pre_response_separation", _above),
    ("at 0% coherence, activity before the response predicts the choice", "zero_coherence_separation", _above),
    ("Tin activity before the response reaches one level at every coherence "
     "(coherence-driven spread within +-50% of the Tin-Tout separation)", "pre_response_tin_coherence_spread",
     lambda s: bool(np.isfinite(s["ci"][0]) and -0.5 < s["ci"][0] and s["ci"][1] < 0.5)),
]
