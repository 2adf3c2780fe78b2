"""Front-end -> back-end model and its feature cache (keys, invalidation, corruption)."""
import numpy as np
import pytest
import torch

import neurovision
from neurovision.backend.build import build_backend
from neurovision.backend.cache import FeatureCache, feature_trials
from neurovision.backend.multiarea import MultiAreaModel
from neurovision.backend.training import torch_threads
from neurovision.backend.trials import draw_trials
from neurovision.dynamics import Schedule, SteppedModel, integrate
from neurovision.errors import ScheduleError, ShapeError

TIMING = {"fixation": 10, "cue": 10, "delay": 20, "decision": 10}


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def make_model(seed=0, pool=2):
    front = neurovision.load_model("leaky-linear", input_shape=(1, 8, 8), tau=10.0, dt=1.0, seed=seed)
    back = build_backend("full", 1 + 4, 9, units=16, dt=5.0, noise_std=0.0)
    return MultiAreaModel(front, "rate", back, pool=pool)


def task(seed=0, **timing):
    return neurovision.load_task("delayed-saccade", seed=seed, dt=5.0, image_shape=(1, 8, 8),
                                 timing={**TIMING, **timing})


def test_features_match_the_closed_form_of_the_leaky_frontend():
    model = make_model()
    image = torch.rand(1, 1, 8, 8)
    obs = torch.cat([torch.ones(1, 3, 1), image.flatten(1)[:, None].expand(1, 3, 64)], -1)
    feats = model.features(obs)
    # Euler: r_n = g x (1 - (1 - a)^n), a = dt / tau; back-end step t averages n = 5(t-1)+1 .. 5t
    drive = (model.frontend.gain.view(1, 8, 8) * image[0]).reshape(2, 4, 2, 4).mean((1, 3)).flatten()
    for t in range(3):
        n = np.arange(5 * t + 1, 5 * t + 6)
        expected = drive * float(np.mean(1 - 0.9**n))
        assert torch.allclose(feats[0, t, 1:], expected, atol=1e-6)
    assert torch.equal(feats[0, :, 0], torch.ones(3))


def test_stepped_interface_agrees_with_features_then_backend():
    model = make_model()
    trials = draw_trials(task(), 3, seed=1)
    direct = model(trials.inputs, record=True).rates["rnn"]
    schedule = Schedule.parse("obs:5")
    state = model.initial_state(3)
    for t in range(trials.inputs.shape[1]):
        *_, state = list(integrate(model, trials.inputs[:, t], schedule, state=state))[-1]
        assert torch.allclose(state["rnn"], direct[:, t], atol=1e-5)


def test_a_cache_hit_returns_the_same_features_without_running_the_frontend(tmp_path, monkeypatch):
    model, cache = make_model(), FeatureCache(tmp_path)
    first = feature_trials(model, task(), 12, seed=3, cache=cache, chunk=5, progress=False)
    assert (cache.stats.misses, cache.stats.hits) == (3, 0)
    monkeypatch.setattr(model, "features", lambda obs: pytest.fail("front-end recomputed"))
    second = feature_trials(model, task(), 12, seed=3, cache=cache, chunk=5, progress=False)
    assert cache.stats.hits == 3 and torch.equal(first.inputs, second.inputs)
    assert torch.equal(first.targets, second.targets)


@pytest.mark.parametrize("change", ["weights", "stimulus", "schedule", "pool"])
def test_any_change_of_weights_stimulus_or_schedule_misses_the_cache(tmp_path, change):
    cache = FeatureCache(tmp_path)
    feature_trials(make_model(), task(), 4, seed=0, cache=cache, chunk=4, progress=False)
    model = make_model(seed=1 if change == "weights" else 0)
    env = task(delay=25) if change == "schedule" else task()
    if change == "pool":
        model = MultiAreaModel(model.frontend, "rate", build_backend("full", 1 + 16, 9, units=16, dt=5.0), pool=4)
    feature_trials(model, env, 4, seed=9 if change == "stimulus" else 0, cache=cache, chunk=4, progress=False)
    assert cache.stats.misses == 2 and cache.stats.hits == 0


def _entry(tmp_path):
    model, cache = make_model(), FeatureCache(tmp_path)
    reference = feature_trials(model, task(), 4, seed=0, cache=cache, chunk=4, progress=False)
    (path,) = list(tmp_path.rglob("*.pt"))
    return model, path, reference


@pytest.mark.parametrize("damage", ["truncated", "content", "stale"])
def test_corrupt_or_stale_entries_are_detected_and_rebuilt(tmp_path, damage):
    model, path, reference = _entry(tmp_path)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        payload = torch.load(path, weights_only=True)
        if damage == "content":
            payload["features"][0, 0, 1] += 1.0
        else:
            payload["keys"]["model"] = "0" * 64
        torch.save(payload, path)
    cache = FeatureCache(tmp_path)
    with pytest.warns(RuntimeWarning, match="recomputing"):
        again = feature_trials(model, task(), 4, seed=0, cache=cache, chunk=4, progress=False)
    assert cache.stats.rebuilt == 1 and torch.equal(again.inputs, reference.inputs)


def test_observations_that_do_not_fit_the_frontend_are_reported_with_shapes():
    model = make_model()
    trials = draw_trials(neurovision.load_task("delayed-saccade", dt=5.0, image_shape=(1, 16, 16),
                                               timing=TIMING), 2, seed=0)
    with pytest.raises(ShapeError, match=r"\(1, 8, 8\)"):
        model.features(trials.inputs)


def test_backend_width_and_step_sizes_are_checked():
    front = neurovision.load_model("leaky-linear", input_shape=(1, 8, 8), dt=1.0)
    with pytest.raises(ShapeError, match="n_inputs=5"):
        MultiAreaModel(front, "rate", build_backend("full", 7, 9, dt=5.0), pool=2)
    with pytest.raises(ScheduleError, match="multiple"):
        MultiAreaModel(neurovision.load_model("leaky-linear", dt=3.0), "rate",
                       build_backend("full", 5, 9, dt=5.0), pool=2)


class TrainableFront(SteppedModel):
    """A front-end with parameters: leaky units reading a learnable linear map of the image."""

    areas, input_shape, dt = ("a",), (1, 8, 8), 1.0

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Linear(64, 4)

    def area_shape(self, area):
        return (4,)

    def initial_state(self, batch_size):
        return {"a": torch.zeros(batch_size, 4)}

    def encode(self, images):
        return self.w(images.flatten(1))

    def step(self, state, drive):
        return {"a": state["a"] + 0.1 * (drive - state["a"])}


def test_the_frontend_is_frozen_and_only_the_backend_learns():
    model = MultiAreaModel(TrainableFront(), "a", build_backend("full", 5, 9, units=16, dt=5.0))
    model.train()
    trials = draw_trials(task(), 2, seed=0)
    model(trials.inputs).logits.sum().backward()
    assert all(not p.requires_grad and p.grad is None for p in model.frontend.parameters())
    assert all(p.grad is not None for p in model.backend.readout.parameters())
    assert not model.frontend.training
