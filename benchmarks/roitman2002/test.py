import numpy as np
import pandas as pd

import neurovision
from neurovision.data.lip import load_roitman


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
                          "rt_ms": rt, "stimulus_start": 5, "length": steps})
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


def test_buildup_uses_the_bins_left_before_fast_decisions():
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
