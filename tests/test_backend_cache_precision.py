"""The feature cache stores float16: its features stay within half-precision rounding of the
live front-end's, and back-end gradients within the level measured by perf/feature_cache.py."""
import pytest
import torch

import neurovision
from neurovision.backend.build import build_backend
from neurovision.backend.cache import STORE_DTYPE, FeatureCache
from neurovision.backend.multiarea import MultiAreaModel, reduced_size
from neurovision.backend.training import task_loss, torch_threads
from neurovision.backend.trials import draw_trials

#: relative gradient difference measured behind the shipped front-end on 16 numerosity trials
#: (perf/results/feature_cache.json: 1.9e-3; 1.1e-3 behind the network shipped before), with
#: headroom for other trials and weights
GRADIENT_BOUND = 2.5e-3


@pytest.mark.slow
def test_float16_cache_matches_live_features_and_gradients(tmp_path):
    with torch_threads(1):
        front = neurovision.load_model("cordsnet-r2", image_size=32)
        n_features = reduced_size(tuple(front.area_shape("area2")), 4)
        backend = build_backend("full", 1 + n_features, 3, units=128, dt=20.0)
        model = MultiAreaModel(front, "area2", backend, 4)
        env = neurovision.load_task("random-dot-motion", seed=0, image_shape=front.input_shape)
        trials = draw_trials(env, 4, seed=0)
        cached = FeatureCache(tmp_path).features(model, trials)
        live = model.features(trials.inputs)
        assert cached.dtype == STORE_DTYPE == torch.float16
        # round-to-nearest half precision: relative error <= 2^-11, absolute <= 2^-25 below 2^-14
        error = (cached.float() - live).abs()
        assert torch.all(error <= live.abs() * 2.0**-11 + 2.0**-25)
        assert error.max() > 0  # the bound is exercised, not trivially met by equal tensors

        def gradient(inputs):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                loss, _ = task_loss(backend, (inputs, trials.targets, trials.mask))
            return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(backend.parameters()))])

        g16, g32 = gradient(cached), gradient(live)
        assert float((g16 - g32).norm() / g32.norm()) < GRADIENT_BOUND
