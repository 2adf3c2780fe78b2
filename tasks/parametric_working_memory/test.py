import numpy as np

import neurovision
from neurovision.backend.trials import draw_trials


def test_target_says_whether_the_first_frequency_is_higher():
    trials = draw_trials(neurovision.load_task("parametric-working-memory", seed=1), 200)
    first_higher = trials.info["v1"] > trials.info["v2"]
    target = trials.targets[np.arange(200), trials.info["decision_start"].to_numpy()].numpy()
    assert np.array_equal(target, np.where(first_higher, 1, 2))


def test_noiseless_ideal_observer_is_perfect():
    trials = draw_trials(neurovision.load_task("parametric-working-memory", seed=1, sigma=0.0), 200)
    assert (trials.info["ideal_choice"] == trials.info["ground_truth"]).all()
