"""Masked loss, training on a task (learning, exact resume, NaN stop), decisions and curves."""
import numpy as np
import pandas as pd
import pytest
import torch

import neurovision
from neurovision.backend.behaviour import chronometric, fit_logistic, psychometric
from neurovision.backend.build import build_backend
from neurovision.backend.evaluation import condition_psth, decide, evaluate
from neurovision.backend.trials import Trials, draw_trials
from neurovision.backend.training import task_loss, torch_threads, train
from neurovision.errors import DivergenceError

EASY = {"timing": {"fixation": 40, "stimulus": 200, "decision": 60}, "cohs": [51.2], "sigma": 0.5}


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def easy_task(seed=0):
    return neurovision.load_task("perceptual-decision-making", seed=seed, **EASY)


def test_masked_loss_ignores_the_steps_with_zero_weight():
    net = build_backend("full", 3, 3, units=8)
    trials = draw_trials(easy_task(), 4, seed=0, fixation_weight=0.0)
    inputs, targets, mask = trials.tensors()
    changed = targets.clone()
    changed[mask == 0] = 2
    torch.manual_seed(0)
    a, _ = task_loss(net, (inputs, targets, mask))
    torch.manual_seed(0)
    b, _ = task_loss(net, (inputs, changed, mask))
    assert torch.equal(a, b)
    assert torch.all(mask[trials.response] == 1) and torch.all(mask[~trials.response] == 0)


def test_a_backend_learns_an_easy_task_above_chance():
    torch.manual_seed(0)
    net = build_backend("low-rank:1", 3, 3, units=32, seed=0)
    train(net, easy_task(), steps=60, batch_size=16, progress=False, checkpoint_every=0)
    result = evaluate(net, draw_trials(easy_task(seed=99), 200))
    assert result.accuracy > 0.9 and result.p_value < 1e-10 and result.chance == 0.5


class FlakyTask:
    """Delegates to a task but fails once after ``fail_after`` trials (a crash mid-run)."""

    def __init__(self, env, fail_after):
        self.env, self.left = env, fail_after

    def new_trial(self):
        self.left -= 1
        if self.left == 0:
            raise RuntimeError("simulated crash")
        return self.env.new_trial()

    def __getattr__(self, name):
        return getattr(self.env, name)


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    def run(env, path):
        torch.manual_seed(0)
        net = build_backend("full", 3, 3, units=8, seed=1)
        train(net, env, steps=12, batch_size=4, checkpoint=path, checkpoint_every=4, progress=False)
        return net

    straight = run(easy_task(), tmp_path / "a.pt")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(FlakyTask(easy_task(), fail_after=4 * 9 + 2), tmp_path / "b.pt")
    resumed = run(easy_task(), tmp_path / "b.pt")
    for (name, p), q in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(p, q), name


def test_nan_loss_stops_naming_the_step_and_saving_the_batch(tmp_path):
    net = build_backend("full", 3, 3, units=8)
    with torch.no_grad():
        net.readout.bias.fill_(float("nan"))
    with pytest.raises(DivergenceError, match="step 0"):
        train(net, easy_task(), steps=3, batch_size=4, checkpoint=tmp_path / "c.pt", progress=False)
    assert list(tmp_path.glob("c.nan-batch-step0.pt"))


def _trials(response, dt=10.0):
    response = torch.as_tensor(response, dtype=torch.bool)
    n, t = response.shape
    return Trials(torch.zeros(n, t, 1), torch.zeros(n, t, dtype=torch.long), torch.ones(n, t),
                  response, pd.DataFrame({"length": [t] * n}), dt)


def test_threshold_rule_gives_choice_and_reaction_time():
    logits = torch.full((2, 6, 3), -10.0)
    logits[..., 0] = 0.0
    logits[0, 3:, 2] = 10.0  # choice 2 from step 3: rt = (3 - 1 + 1) * 10 ms
    trials = _trials([[0, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1]])
    out = decide(logits, trials, "threshold", 0.8)
    assert out["choice"][0] == 2 and out["rt_ms"][0] == 30.0 and out["responded"][0]
    assert not out["responded"][1] and np.isnan(out["rt_ms"][1])


def test_ring_rule_reads_the_population_vector():
    k = 8
    logits = torch.zeros(1, 2, 1 + k)
    logits[0, :, 1 + 2] = 3.0  # peak on location 2 ...
    logits[0, :, 1 + 3] = 3.0  # ... and 3: the vector points at 2.5, rounds to 2 or 3
    logits[0, :, 1 + 3] += 0.2
    out = decide(logits, _trials([[1, 1]]), "ring")
    assert out["choice"][0] == 1 + 3
    assert decide(logits, _trials([[1, 1]]), "mean")["choice"][0] == 1 + 3


def test_condition_psth_recovers_planted_means_and_alignment():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"c": np.repeat([0, 1], 50), "onset": rng.integers(2, 6, 100), "length": 20})
    rates = np.zeros((100, 20, 2))
    for i, (c, onset) in enumerate(zip(table["c"], table["onset"])):
        rates[i, onset:, 0] = 1.0 + c  # steps after onset carry the condition's level
    psth = condition_psth(rates, table, ["c"], "onset", 10.0, (-20.0, 50.0))
    assert list(psth["time"].values) == [-20, -10, 0, 10, 20, 30, 40, 50]
    assert np.allclose(psth.sel(neuroid=0).values[:, 2:], [[1.0], [2.0]])
    assert np.allclose(psth.sel(neuroid=0).values[:, :2], 0.0)


def test_logistic_fit_recovers_planted_parameters():
    rng = np.random.default_rng(1)
    x = np.array([-50.0, -25, -12, -6, 0, 6, 12, 25, 50])
    n = np.full(x.size, 4000)
    p = 1 / (1 + np.exp(-(x - 3.0) / 8.0))
    fit = fit_logistic(x, rng.binomial(n, p), n, lapse=False)
    assert abs(fit["bias"] - 3.0) < 0.5 and abs(fit["scale"] - 8.0) < 0.5


def test_curves_from_a_choice_table():
    table = pd.DataFrame({"s": [-1, -1, 1, 1, 0, 0], "choice": [2, 2, 1, 2, 1, 2],
                          "rt_ms": [300, 500, 200, 900, 600, 800], "correct": [1, 1, 1, 0, 0, 1]})
    curve = psychometric(table, "s", 1)
    assert list(curve["p"]) == [0.0, 0.5, 0.5]
    chrono = chronometric(table, "s")
    assert list(chrono["rt_ms"]) == [400.0, 700.0, 200.0]  # error at s=1 left out, all at s=0 kept
