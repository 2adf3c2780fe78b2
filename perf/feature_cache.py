"""Back-end training throughput with cached front-end features vs recomputing the front-end.

One training step (forward, masked cross-entropy, backward, Adam) of a 128-unit back-end on a
batch of ``numerosity`` trials (60 steps of 20 ms) behind a frozen CordsNet-R2 (32 x 32 px,
dt = 2 ms, area2 pooled to 4 x 4 x 64 features):

* candidate: the batch's front-end features are read from the feature cache (as in training);
* reference: the front-end is run on the same batch's images at every step (10 Euler steps of
  CordsNet per back-end step, no gradients).

Both use the very same trials (one draw; the cached features are computed from it), are timed
interleaved in one run; ``speedup`` = reference time / candidate time. Also reported: the cache
size per 1,000 trials, the time to build a cache chunk and to read it back, and how many uses
of each cached trial pay for building its features; and the cost of the cache's float16 storage
against float32: memory per 1,000 trials of each, the training step on float32 features, the
largest feature difference from the live (float32) features and the relative difference of the
back-end's parameter gradients.
"""
from __future__ import annotations

import tempfile
import time

import torch

import neurovision
from neurovision.backend.build import build_backend
from neurovision.backend.cache import FeatureCache
from neurovision.backend.multiarea import MultiAreaModel, reduced_size
from neurovision.backend.training import task_loss
from neurovision.backend.trials import draw_trials

from ._harness import compare, parser, setup, timeit, write_result

FRONTEND = "cordsnet-r2-cifar10"


def frontend():
    """The trained CordsNet-R2 (CIFAR-10) when registered, else the untrained R2 at 32 px."""
    if FRONTEND in neurovision.model_registry:
        return neurovision.load_model(FRONTEND), FRONTEND
    return neurovision.load_model("cordsnet-r2", image_size=32), "cordsnet-r2 (image_size=32)"


def main(argv=None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    device = setup(args)
    batch = 4 if args.quick else 16
    front, name = frontend()
    pool = 4
    n_features = reduced_size(tuple(front.area_shape("area2")), pool)
    backend = build_backend("full", 1 + n_features, 3, units=128, dt=20.0)
    model = MultiAreaModel(front, "area2", backend, pool).to(device)
    env = neurovision.load_task("numerosity", seed=0, image_shape=front.input_shape)
    trials = draw_trials(env, batch, seed=1, fixation_weight=0.1)
    optimizer = torch.optim.Adam(backend.parameters(), lr=1e-3)

    with tempfile.TemporaryDirectory() as folder:
        cache = FeatureCache(folder)
        start = time.perf_counter()
        cache.features(model, trials)
        build_s = time.perf_counter() - start
        read = timeit(lambda: cache.features(model, trials), repeats=args.repeats)
        bytes_per_trial = cache.size_bytes() / batch
        half = cache.features(model, trials)
    live = model.features(trials.inputs)
    raw = tuple(t.to(device) for t in trials.tensors())
    cached = tuple(t.to(device) for t in (half, trials.targets, trials.mask))
    single = tuple(t.to(device) for t in (live, trials.targets, trials.mask))

    def step(loss_model, data):
        loss, _ = task_loss(loss_model, data)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def gradient(data):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # the same network noise for both precisions
            loss, _ = task_loss(backend, data)
        return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(backend.parameters()))])

    g16, g32 = gradient(cached), gradient(single)
    result = compare(lambda: step(backend, cached), lambda: step(model, raw),
                     repeats=args.repeats, warmup=1, device=device)
    precision = compare(lambda: step(backend, cached), lambda: step(backend, single),
                        repeats=max(args.repeats, 5), warmup=1, device=device)
    speedup = result.speedup.median
    metrics = {
        **result.metrics("cached_training_step"),
        "same_trials": True,
        "cache_mib_per_1000_trials": bytes_per_trial * 1000 / 2**20,
        "float32_mib_per_1000_trials": live[0].numel() * 4 * 1000 / 2**20,
        "float16_mib_per_1000_trials": half[0].numel() * 2 * 1000 / 2**20,
        **precision.metrics("float16_vs_float32_training_step"),
        "float16_max_abs_feature_difference": float((half.float() - live).abs().max()),
        "float16_max_relative_feature_difference": float(((half.float() - live).abs() / live.abs().clamp_min(1e-6)).max()),
        "feature_max_abs": float(live.abs().max()),
        "float16_relative_gradient_difference": float((g16 - g32).norm() / g32.norm()),
        "cache_build_seconds_per_trial": build_s / batch,
        "cache_read_seconds_per_trial": read.median / batch,
        "reuses_to_amortise_cache": build_s / max(result.reference.median - result.candidate.median, 1e-9),
        "meets_20x_target": bool(speedup >= 20),
    }
    write_result("feature_cache", metrics, args.repeats, device,
                 notes=f"front-end {name}; batch {batch} numerosity trials of {trials.inputs.shape[1]} "
                       f"steps; {n_features} features; back-end 128 units",
                 config={"batch": batch, "pool": pool, "frontend": name})


if __name__ == "__main__":
    main()
