import math

import numpy as np
import torch

import neurovision
from neurovision.brain.presentation import GRAY
from neurovision.dynamics import record


def test_registered_and_follows_the_leaky_filter_on_and_off():
    model = neurovision.load_model("baseline-pixels")
    assert model.areas == ("pixels",) and model.input_shape == (1, 24, 24)
    assert (model.tau, model.dt) == (20.0, 2.0)
    image = torch.rand(1, 1, 24, 24)
    activity = record(model, image, "blank:20,image:40,blank:40", "pixels", "-10:80:2", progress=False)
    t = activity["time_bin_end"].values
    expected_on = GRAY + (image.flatten().numpy()[:, None] - GRAY) * (1 - np.exp(-np.clip(t, 0, 40) / 20))
    after = t > 40
    expected = np.where(after, GRAY + (expected_on - GRAY) * np.exp(-np.clip(t - 40, 0, None) / 20), expected_on)
    np.testing.assert_allclose(activity.values[0], expected, atol=1e-5)
    assert abs(activity.values[0, :, 0] - GRAY).max() < 1e-6  # starts at the gray screen's steady state
    assert math.isclose(model.decay, math.exp(-0.1))
