import numpy as np

import neurovision
from neurovision.backend.trials import draw_trials


def test_match_trials_repeat_the_sample():
    trials = draw_trials(neurovision.load_task("delayed-match-to-sample", seed=7), 200)
    match = trials.info["ground_truth"] == 1
    assert np.allclose(trials.info["sample_theta"][match], trials.info["test_theta"][match])
    assert not np.isclose(trials.info["sample_theta"][~match], trials.info["test_theta"][~match]).any()
    assert (trials.info["ideal_choice"] == trials.info["ground_truth"]).mean() > 0.99
