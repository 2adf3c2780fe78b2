import numpy as np

import neurovision
from neurovision.backend.trials import draw_trials


def test_bayes_observer_beats_single_modality_and_not_more_than_chance_allows():
    env = neurovision.load_task("multisensory-integration", seed=2)
    trials = draw_trials(env, 1000)
    truth = trials.info["ground_truth"] + 1
    ideal = np.mean(trials.info["ideal_choice"] == truth)
    stim = trials.inputs.numpy()
    start, end = int(trials.info["stimulus_start"][0]), int(trials.info["stimulus_end"][0])
    mod1_only = np.where((stim[:, start:end, 1] - stim[:, start:end, 2]).sum(1) > 0, 1, 2)
    assert ideal > np.mean(mod1_only == truth) + 0.05
    assert 0.85 < ideal < 0.97
