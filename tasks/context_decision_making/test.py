import numpy as np

import neurovision
from neurovision.backend.trials import draw_trials


def test_context_cue_is_explicit_and_selects_the_relevant_modality():
    trials = draw_trials(neurovision.load_task("context-decision-making", seed=4, sigma=0.0), 300)
    context_inputs = trials.inputs[:, 0, 5:7].numpy()
    assert np.array_equal(context_inputs.argmax(1), trials.info["context"].to_numpy())
    assert (trials.info["ideal_choice"] == trials.info["ground_truth"]).all()
