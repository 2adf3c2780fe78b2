"""Multitask rule inputs: the shared layout, training on two tasks, task variance and its clusters."""
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

import neurovision
from neurovision.backend.build import build_backend
from neurovision.backend.multitask import MultitaskEnv, evaluate_tasks, rule_channels, task_trials
from neurovision.backend.task_variance import cluster_units, normalised_task_variance, task_variance
from neurovision.backend.training import torch_threads, train
from neurovision.backend.trials import draw_trials
from neurovision.errors import DataError, ScheduleError, UnknownIdError

EASY_PDM = {"timing": {"fixation": 40, "stimulus": 200, "decision": 60}, "cohs": [51.2], "sigma": 0.5}
EASY_PWM = {"timing": {"fixation": 40, "stimulus1": 100, "delay": 100, "stimulus2": 100, "decision": 60},
            "sigma": 0.2}


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def two_tasks(seed=0, **kwargs):
    return MultitaskEnv({"pdm": neurovision.load_task("perceptual-decision-making", seed=0, **EASY_PDM),
                         "pwm": neurovision.load_task("parametric-working-memory", seed=0, **EASY_PWM)},
                        seed=seed, **kwargs)


def test_each_task_keeps_its_own_trials_in_its_block_of_the_shared_layout():
    env = two_tasks(seed=5)
    trials = draw_trials(env, 40)
    assert env.observation_space.shape == (1 + 2 + 1 + 2,)  # fixation, pdm (2), pwm (1), rules (2)
    info = trials.info
    assert set(info["task"]) == {"pdm", "pwm"}
    # the task's own generator is independent of the schedule: same trials as the task alone
    child = int(np.random.SeedSequence(5).generate_state(3)[0] % (2**31 - 1))
    alone = draw_trials(neurovision.load_task("perceptual-decision-making", seed=child, **EASY_PDM), 40)
    rows = np.flatnonzero(info["task"] == "pdm")
    for j, i in enumerate(rows):
        n = int(info["length"][i])
        x = trials.inputs[i, :n]
        assert torch.equal(x[:, :3], alone.inputs[j, :n]) and torch.equal(trials.targets[i, :n], alone.targets[j, :n])
        assert torch.all(x[:, 3] == 0) and torch.all(x[:, rule_channels(env)] == torch.tensor([1.0, 0.0]))
        decision = slice(int(alone.info["decision_start"][j]), int(alone.info["decision_end"][j]))
        assert trials.response[i, decision].all() and trials.response[i].sum() == decision.stop - decision.start
    pwm = np.flatnonzero(info["task"] == "pwm")[0]
    assert torch.all(trials.inputs[pwm, :, 1:3] == 0) and trials.inputs[pwm, :, 3].abs().sum() > 0
    shared = two_tasks(layout="shared")
    assert shared.observation_space.shape == (1 + 2 + 2,)


def test_only_draws_one_task_and_bad_rules_or_steps_are_explained():
    env = two_tasks()
    assert set(task_trials(env, "pwm", 10, seed=0).info["task"]) == {"pwm"}
    assert set(task_trials(env, 0, 10, seed=0).info["task"]) == {"pdm"}
    assert set(draw_trials(env, 30, seed=1).info["task"]) == {"pdm", "pwm"}  # the schedule resumes
    with pytest.raises(DataError, match=r"rule index 2 is out of range.*0 = pdm, 1 = pwm"):
        task_trials(env, 2, 5, seed=0)
    with pytest.raises(UnknownIdError, match="pdm"):
        env.check_rule("pdn")
    coarse = neurovision.load_task("parametric-working-memory", seed=0, dt=100)
    with pytest.raises(ScheduleError, match=r"pdm \(20 ms\), pwm \(100 ms\)"):
        MultitaskEnv({"pdm": neurovision.load_task("perceptual-decision-making"), "pwm": coarse})


def test_one_backend_learns_two_tasks_above_chance_on_new_trials():
    torch.manual_seed(0)
    env = two_tasks(seed=0)
    net = build_backend("full", env.observation_space.shape[0], env.action_space.n, units=48, seed=0)
    train(net, env, steps=250, batch_size=32, lr=1e-2, progress=False, checkpoint_every=0)
    result = evaluate_tasks(net, two_tasks(seed=99), n=200, seed=7)
    for name in ("pdm", "pwm"):
        assert result[name]["chance"] == 0.5
        assert result[name]["accuracy"] > 0.75 and result[name]["p_value_vs_chance"] < 1e-6, result


def test_task_variance_is_the_across_trial_variance_averaged_over_reached_steps():
    rng = np.random.default_rng(0)
    rates = rng.normal(size=(6, 5, 3))
    lengths = np.array([5, 5, 5, 4, 3, 1])
    expected = np.mean([np.var(rates[lengths > t, t], axis=0, ddof=1) for t in range(5) if np.sum(lengths > t) >= 2], 0)
    assert np.allclose(task_variance(rates, lengths), expected)


def test_planted_task_selective_groups_are_recovered_with_their_number():
    rng = np.random.default_rng(1)
    groups = {"pdm only": [1.0, 0.0, 0.0], "dms only": [0.0, 1.0, 0.0], "all": [1.0, 1.0, 1.0]}
    rows, truth = [], []
    for g, (name, profile) in enumerate(groups.items()):
        for _ in range(30):
            scale = rng.uniform(0.5, 2.0)
            rows.append(scale * (np.array(profile) + 0.03 * rng.random(3)))
            truth.append(g)
    tv = pd.DataFrame(rows + [[1e-5, 1e-5, 1e-5]], columns=["pdm", "dms", "cdm"])
    norm = normalised_task_variance(tv)
    assert len(norm) == 90 and np.allclose(norm.max(1), 1.0)  # the silent unit is dropped
    for method in ("kmeans", "agglomerative"):
        clusters = cluster_units(norm, range(2, 8), method=method)
        assert clusters.k == 3 and adjusted_rand_score(truth, clusters.labels) == 1.0
        assert clusters.silhouettes[3] == max(clusters.silhouettes.values())
    with pytest.raises(UnknownIdError, match="kmeans"):
        cluster_units(norm, method="spectral")
