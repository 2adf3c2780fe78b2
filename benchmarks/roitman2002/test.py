import numpy as np
import pandas as pd
import pytest

import neurovision
from neurovision.data.lip import load_roitman
from neurovision.errors import DataError


def _bench():
    from neurovision_plugins.benchmarks.roitman2002 import benchmark  # loaded by the registry

    return benchmark


def test_registered():
    assert neurovision.load_benchmark("roitman2002.LIP").identifier == "roitman2002.LIP"


def test_lip_buildup_grows_with_coherence_toward_the_response_field(shared_data):
    bench = _bench()
    motion, saccade = bench.lip_psths(25.0)
    table = bench.compare(motion, motion, n_shuffles=50)["conditions"]
    t1 = table[table["choice"] == 1].sort_values("coherence")
    t2 = table[table["choice"] == 2].sort_values("coherence")
    assert np.corrcoef(t1["coherence"], t1["lip_buildup"])[0, 1] > 0.8
    assert np.corrcoef(t2["coherence"], t2["lip_buildup"])[0, 1] < -0.5
    assert (t1["lip_buildup"].to_numpy() > t2["lip_buildup"].to_numpy()).all()
    late = saccade.sel(time=slice(-150, -50)).mean("time")
    assert float(late.where(late.choice == 1, drop=True).mean()) > float(late.where(late.choice == 2, drop=True).mean()) + 10


def test_score_is_high_for_planted_lip_like_activity_and_falls_when_conditions_are_shuffled(shared_data):
    bench = _bench()
    motion, _ = bench.lip_psths(20.0)
    rng = np.random.default_rng(0)
    planted = 0.05 * motion + rng.normal(0, 0.05, motion.shape)
    good = bench.compare(motion, planted, n_shuffles=200)
    assert good["buildup_r"] > 0.9 and good["buildup_p"] < 0.02
    assert good["trajectory_r"] > 0.8 and good["trajectory_shuffled_mean"] < 0.3
    scrambled = planted.copy(data=planted.values[rng.permutation(len(planted))])
    assert bench.compare(motion, scrambled, n_shuffles=200)["buildup_r"] < good["buildup_r"] - 0.3


def test_behaviour_figure_puts_model_and_monkeys_together(shared_data, tmp_path):
    monkeys = load_roitman().trials
    model = monkeys.sample(600, random_state=0).assign(rt_ms=lambda t: t["rt_ms"] * 0.8)
    path = _bench().plot_behaviour(model, monkeys, tmp_path / "behaviour.png")
    assert path.stat().st_size > 10_000


def test_psth_figure(shared_data, tmp_path):
    bench = _bench()
    motion, saccade = bench.lip_psths(25.0)
    path = bench.plot_psths({"motion": motion, "saccade": saccade}, tmp_path / "psth.png")
    assert path.stat().st_size > 10_000


def test_model_psths_select_choice_one_units_and_truncate_before_the_decision():
    bench = _bench()
    rng = np.random.default_rng(0)
    n, steps, dt = 400, 45, 20.0
    coherence = rng.choice([0.0, 12.8, 51.2], n)
    choice = rng.choice([1, 2], n)
    rt = rng.choice([300.0, 500.0, 700.0], n)
    table = pd.DataFrame({"coherence": coherence, "choice": choice, "correct": True, "responded": True,
                          "decision_ms": rt, "stimulus_start": 5, "length": steps})
    t = np.arange(steps)[None, :] - 5
    slope = np.where(choice == 1, 1.0, -1.0) * (0.01 + coherence / 1000)
    ramp = np.clip(t, 0, None) * slope[:, None]
    rates = np.stack([1 + ramp, 1 - ramp, np.ones_like(ramp)], -1)  # unit 0 prefers choice 1
    motion, at_decision, units = bench.model_psths(bench.ModelBehaviour(table, rates, dt))
    assert list(units) == [0]
    buildup = bench.buildup_rates(motion)
    order = np.argsort(motion["coherence"].values[motion["choice"].values == 1])
    assert np.all(np.diff(buildup[motion["choice"].values == 1][order]) > 0)
    fast = motion.sel(condition=(motion["coherence"] == 51.2) & (motion["choice"] == 1))
    assert np.isnan(fast.sel(time=600.0)).all()  # beyond the latest usable step (700 ms - 100 ms)
    assert at_decision["time"].values[-1] == 0.0


def test_buildup_uses_the_bins_left_before_fast_decisions(shared_data):
    """A condition whose PSTH stops inside the build-up window keeps its slope from the bins it
    has; one with too few bins is left out of the correlation instead of making it NaN."""
    bench = _bench()
    motion, _ = bench.lip_psths(20.0)
    t = motion["time"].values
    planted = motion.copy(data=motion.values.astype(float))
    slopes = bench.buildup_rates(planted)
    cut = planted.values.copy()
    cut[0, t > 300] = np.nan  # decided at ~400 ms: bins 200-300 ms remain
    cut[1, t > 200] = np.nan  # decided before the window: no bins
    truncated = bench.buildup_rates(planted.copy(data=cut))
    assert np.isfinite(truncated[0]) and np.isnan(truncated[1])
    assert np.allclose(truncated[2:], slopes[2:])
    result = bench.compare(motion, planted.copy(data=cut), n_shuffles=50)
    assert np.isfinite(result["buildup_r"]) and result["buildup_conditions"] == len(slopes) - 1


def _planted_behaviour(ramp_scale: float, n: int = 1200, seed: int = 0):
    """Trials of 45 steps (20 ms, motion from step 5) whose unit 0 ramps after 200 ms with a
    slope ``(choice 1: +, choice 2: -) (0.2 + ramp_scale * coherence / 51.2)`` per s, plus noise;
    unit 1 is a mirror image; decisions at 500-700 ms."""
    bench = _bench()
    rng = np.random.default_rng(seed)
    coherence = rng.choice([0.0, 3.2, 6.4, 12.8, 25.6, 51.2], n)
    choice = rng.choice([1, 2], n)
    table = pd.DataFrame({"coherence": coherence, "choice": choice, "correct": True, "responded": True,
                          "decision_ms": rng.choice([500.0, 600.0, 700.0], n), "stimulus_start": 5, "length": 45})
    t = np.clip((np.arange(45)[None] - 5) * 0.02 - 0.2, 0, None)
    slope = np.where(choice == 1, 1.0, -1.0) * (0.2 + ramp_scale * coherence / 51.2)
    ramp = 1 + t * slope[:, None] + rng.normal(0, 0.05, (n, 45))
    return bench.ModelBehaviour(table, np.stack([ramp, 2 - ramp], -1), 20.0)


def test_planted_coherence_scaled_ramps_pass_and_a_choice_only_signal_fails(shared_data):
    bench = _bench()
    from neurovision_plugins.benchmarks.roitman2002 import controls, observations as obs

    behaviour = _planted_behaviour(ramp_scale=1.0)
    rates, units = bench.model_trial_rates(behaviour)
    stats = obs.statistics(rates, n_boot=200)
    assert list(units) == [0] and obs.headline_pass(stats)
    assert stats["buildup_coherence_slope_tin"]["ci"][0] > 0 > stats["buildup_coherence_slope_tout"]["ci"][1]
    flat = obs.statistics(bench.model_trial_rates(controls.choice_only(behaviour))[0], n_boot=200)
    assert flat["normalised_contrast"]["estimate"] == 0.0 and not obs.headline_pass(flat)
    shuffled = obs.statistics(rates.shuffled_coherence(0), n_boot=200)
    assert not obs.headline_pass(shuffled)
    same_ramp = obs.statistics(bench.model_trial_rates(_planted_behaviour(ramp_scale=0.0))[0], n_boot=200)
    assert not obs.headline_pass(same_ramp)  # ramps by choice only, not by coherence


def test_too_few_coherences_say_what_is_missing():
    bench = _bench()
    from neurovision_plugins.benchmarks.roitman2002 import observations as obs

    behaviour = _planted_behaviour(1.0)
    keep = behaviour.table["coherence"].isin([0.0, 51.2]).to_numpy()
    cut = bench.ModelBehaviour(behaviour.table[keep].reset_index(drop=True), behaviour.rates[keep], 20.0)
    with pytest.raises(DataError, match="fewer than 3 coherences"):
        obs.statistics(bench.model_trial_rates(cut)[0], n_boot=10)


@pytest.mark.slow
def test_untrained_backends_on_real_dots_fail_the_headline(shared_data):
    """Untrained back-ends (3 seeds) on random-dot frames, with choices of an observer that
    follows the motion, do not show coherence-graded build-up."""
    bench = _bench()
    from neurovision.backend import build_backend, draw_trials
    from neurovision_plugins.benchmarks.roitman2002 import controls, observations as obs

    env = neurovision.load_task("random-dot-motion", seed=0, image_shape=(1, 16, 16))
    trials = draw_trials(env, 360, 0)
    rng = np.random.default_rng(0)
    info = trials.info.reset_index(drop=True)
    p1 = 1 / (1 + np.exp(-info["signed_coherence"] / 8.0))
    choice = np.where(rng.random(len(info)) < p1, 1, 2)
    table = info.assign(choice=choice, correct=choice == info["direction"], responded=True,
                        decision_ms=rng.choice([500.0, 600.0, 700.0], len(info)))
    behaviour = bench.ModelBehaviour(table, np.zeros((len(table), trials.inputs.shape[1], 1)), 20.0, trials.inputs)
    for seed in range(3):
        backend = build_backend("full", trials.inputs.shape[-1], 3, units=64, dt=20.0, seed=seed)
        stats = obs.statistics(bench.model_trial_rates(controls.untrained(behaviour, backend, seed))[0], n_boot=200)
        assert not obs.headline_pass(stats)
