import numpy as np
from scipy.stats import norm

import neurovision
from neurovision.backend.trials import draw_trials


def test_ideal_observer_matches_the_analytic_accuracy():
    # channel difference per step: coh/100 + N(0, 2 s^2); summed over n steps -> Phi(sqrt(n) coh / (100 sqrt(2) s))
    env = neurovision.load_task("perceptual-decision-making", seed=3, cohs=[6.4])
    trials = draw_trials(env, 3000)
    n = int((trials.info["stimulus_end"] - trials.info["stimulus_start"]).iloc[0])
    expected = norm.cdf(np.sqrt(n) * 6.4 / (100 * np.sqrt(2) * env.sigma))
    observed = np.mean(trials.info["ideal_choice"] == trials.info["ground_truth"] + 1)
    assert abs(observed - expected) < 3 * np.sqrt(expected * (1 - expected) / 3000)
    assert 0.85 < expected < 0.97


def test_seed_reproduces_trials():
    a = draw_trials(neurovision.load_task("perceptual-decision-making", seed=5), 4)
    b = draw_trials(neurovision.load_task("perceptual-decision-making", seed=5), 4)
    c = draw_trials(neurovision.load_task("perceptual-decision-making", seed=6), 4)
    assert np.array_equal(a.inputs, b.inputs) and not np.array_equal(a.inputs, c.inputs)
