import numpy as np

import neurovision
from neurovision.backend.trials import draw_trials


def test_cue_sits_at_the_target_angle_and_the_target_is_its_ring_unit():
    trials = draw_trials(neurovision.load_task("delayed-saccade", seed=0, image_shape=(1, 32, 32)), 24)
    for i, row in trials.info.iterrows():
        cue = trials.inputs[i, int(row["cue_start"]), 1:].reshape(32, 32).numpy()
        r, c = np.array(np.nonzero(cue)).mean(1) + 0.5
        angle = np.degrees(np.arctan2(16 - r, c - 16)) % 360
        assert abs((angle - row["angle_deg"] + 180) % 360 - 180) < 3
        assert trials.inputs[i, int(row["delay_start"]), 1:].abs().sum() == 0
        assert trials.targets[i, int(row["decision_start"])] == 1 + row["location"]
    assert trials.inputs[:, -1, 0].sum() == 0  # fixation off = go signal
