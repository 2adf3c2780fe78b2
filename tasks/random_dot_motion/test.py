import numpy as np

import neurovision
from neurovision.backend.trials import draw_trials


def test_reaction_time_trials_carry_the_choice_through_the_motion_period():
    env = neurovision.load_task("random-dot-motion", seed=0, image_shape=(1, 32, 32))
    assert env.decision_rule == "threshold" and env.response_periods == ("stimulus",)
    trials = draw_trials(env, 30)
    info = trials.info
    sign = np.where(info["direction"] == 1, 1, -1)
    assert np.allclose(info["signed_coherence"], sign * info["coherence"])
    start = int(info["stimulus_start"][0])
    assert (trials.targets[:, start:] == trials.targets[:, start:start + 1]).all()
    assert trials.response[:, start:].all() and not trials.response[:, :start].any()
    frames = trials.inputs[0, start:, 1:]
    assert not (frames[1:] == frames[:-1]).all(1).any()  # a new frame every step
