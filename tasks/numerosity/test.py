import numpy as np
import pytest
from scipy import ndimage

import neurovision
from neurovision.backend.trials import draw_trials


def _image(trials, i, period):
    step = int(trials.info[f"{period}_start"][i])
    return trials.inputs[i, step, 1:].reshape(32, 32).numpy()


def test_sample_shows_its_numerosity_and_the_adjacent_rule_differs_by_one():
    env = neurovision.load_task("numerosity", seed=2, image_shape=(1, 32, 32), nonmatch="adjacent")
    trials = draw_trials(env, 40)
    info = trials.info
    for i in range(len(info)):
        assert ndimage.label(_image(trials, i, "sample") > 0.5)[1] == info["sample"][i]
        assert ndimage.label(_image(trials, i, "test") > 0.5)[1] == info["test"][i]
        assert not np.array_equal(_image(trials, i, "sample"), _image(trials, i, "test"))
    assert (info["sample"] == info["test"]).equals(info["match"])
    assert set(np.abs(info["sample"] - info["test"])) <= {0, 1}
    assert set(info["control"]) == {"standard", "area", "density"}


def test_fixation_input_is_on_until_the_decision_period():
    trials = draw_trials(neurovision.load_task("numerosity", seed=0), 3)
    decision = int(trials.info["decision_start"][0])
    assert np.all(trials.inputs[:, :decision, 0].numpy() == 1)
    assert np.all(trials.inputs[:, decision:, 0].numpy() == 0)


def test_any_rule_draws_every_other_numerosity_and_unknown_rules_are_listed():
    info = draw_trials(neurovision.load_task("numerosity", seed=4, image_shape=(1, 32, 32)), 300).info
    distance = np.abs(info["sample"] - info["test"])
    assert set(distance[~info["match"]]) == {1, 2, 3, 4}
    assert (distance[info["match"]] == 0).all()
    with pytest.raises(Exception, match="adjacent"):
        neurovision.load_task("numerosity", nonmatch="near")
