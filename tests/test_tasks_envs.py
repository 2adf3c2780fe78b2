"""All task plugins: registration, seeding, the gymnasium API and visual observation layout."""
import numpy as np
import pytest

import neurovision
from neurovision.backend.trials import draw_trials
from neurovision.errors import ShapeError, UnknownIdError

CLASSIC = ["perceptual-decision-making", "parametric-working-memory", "multisensory-integration",
           "context-decision-making", "delayed-match-to-sample"]
VISUAL = ["numerosity", "delayed-saccade", "random-dot-motion"]


def test_all_tasks_are_registered():
    assert set(CLASSIC + VISUAL + ["cat-dog-category"]) <= set(neurovision.task_registry)
    with pytest.raises(UnknownIdError, match="numerosity"):
        neurovision.load_task("numerosty")


@pytest.mark.parametrize("name", CLASSIC + VISUAL)
def test_seeds_are_honoured(name):
    kwargs = {"image_shape": (1, 16, 16)} if name in VISUAL else {}
    if name == "numerosity":
        kwargs["image_shape"] = (1, 24, 24)
    a = draw_trials(neurovision.load_task(name, seed=11, **kwargs), 3)
    b = draw_trials(neurovision.load_task(name, seed=11, **kwargs), 3)
    c = draw_trials(neurovision.load_task(name, seed=12, **kwargs), 3)
    assert np.array_equal(a.inputs, b.inputs) and a.info.equals(b.info)
    assert not np.array_equal(a.inputs, c.inputs)


def test_gymnasium_api_rewards_the_correct_response():
    env = neurovision.load_task("delayed-saccade", seed=0, image_shape=(1, 16, 16))
    ob, _ = env.reset(seed=0)
    assert ob.shape == (1 + 256,) and env.observation_space.contains(ob.astype(np.float32))
    target = int(env.gt[-1])
    rewards, t = [], 1
    while True:
        action = target if env.in_period("decision") else 0
        ob, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        if info["new_trial"]:
            break
        t += 1
    assert rewards[-1] == 1.0 and sum(rewards) == 1.0


def test_bad_image_shapes_are_explained():
    with pytest.raises(ShapeError, match="channels, height, width"):
        neurovision.load_task("delayed-saccade", image_shape=(32, 32))
