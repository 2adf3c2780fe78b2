"""Benchmarks with planted ground truth, to check the scoring pipeline end to end.

:class:`TwoTimescaleModel` is a small model whose response pattern across images changes
over time (a fast and a slow population read different projections of the image), so the
time course carries information a shuffled time axis destroys. :func:`planted_benchmark`
makes neural data as a noisy linear map of a model's recorded activity delayed by
``latency_ms``, with repeated trials, so the right answer (shift, near-ceiling score) is known.
"""
from __future__ import annotations

import numpy as np
import torch

from ..dynamics.base import SteppedModel
from .benchmark import TemporalBenchmark
from .presentation import ModelRecorder
from .recordings import make_recording


class TwoTimescaleModel(SteppedModel):
    """A transient and a sustained population, ``units`` each, side by side in area ``out``.

    Leaky units (``tau_fast``, ``tau_slow`` ms) read two fixed random projections ``u``, ``v`` of
    the image: the transient half is ``fast(u) - slow(u)`` (an onset burst that decays while
    the image stays, and a negative offset response), the sustained half is ``slow(v)``.
    Activity (batch, 2 * units).
    """

    areas = ("out",)

    def __init__(self, input_shape=(1, 8, 8), units: int = 64, tau_fast: float = 10.0,
                 tau_slow: float = 60.0, dt: float = 2.0, seed: int = 0):
        super().__init__()
        self.input_shape, self.units, self.dt = tuple(input_shape), units, float(dt)
        self.taus = (float(tau_fast), float(tau_slow))
        gen = torch.Generator().manual_seed(seed)
        n = int(np.prod(self.input_shape))
        self.register_buffer("weights", torch.randn(n, 2 * units, generator=gen) / np.sqrt(n))

    def area_shape(self, area):
        self.check_area(area)
        return (2 * self.units,)

    def initial_state(self, batch_size):
        zeros = self.weights.new_zeros
        return {"fast": zeros(batch_size, self.units), "slow": zeros(batch_size, 2 * self.units)}

    def encode(self, stimulus):
        return stimulus.reshape(stimulus.shape[0], -1) @ self.weights

    def step(self, state, drive):
        fast, slow = state["fast"], state["slow"]
        target = torch.zeros_like(slow) if drive is None else drive
        return {"fast": fast + self.dt / self.taus[0] * (target[:, : self.units] - fast),
                "slow": slow + self.dt / self.taus[1] * (target - slow)}

    def activity(self, state, area):
        self.check_area(area)
        slow = state["slow"]
        return torch.cat([state["fast"] - slow[:, : self.units], slow[:, self.units:]], dim=1)


def planted_benchmark(model, area: str, images: torch.Tensor, latency_ms: float, bins,
                      n_neuroids: int = 40, n_repetitions: int = 4, noise: float = 0.5, rank: int = 16,
                      n_objects: int = 10, stimulus_ms: float = 100.0, seed: int = 0,
                      region: str = "IT") -> TemporalBenchmark:
    """Trials ``W' a(t - latency_ms) + noise`` from ``model``'s activity ``a`` in ``area``.

    ``W`` is a random (feature, neuroid) matrix of rank ``rank``; the noise is Gaussian with standard deviation
    ``noise`` times the signal's. Stimuli get ``n_objects`` balanced ``object_name`` labels.
    """
    rng = np.random.default_rng(seed)
    ids = [f"planted{i:04d}" for i in range(len(images))]
    recorder = ModelRecorder(model, stimulus_ms=stimulus_ms,
                             blank_before_ms=max(100.0, latency_ms - min(b[0] for b in bins)),
                             reducer=None, progress=False)
    shifted = [(a - latency_ms, b - latency_ms) for a, b in bins]
    activity = recorder.record(recorder.prepare(images), ids, area, shifted).values  # (P, F, T)
    weights = rng.normal(size=(activity.shape[1], rank)) @ rng.normal(size=(rank, n_neuroids))
    signal = np.einsum("pft,fn->pnt", activity, weights)
    scale = noise * signal.std()
    trials = signal[None] + scale * rng.normal(size=(n_repetitions,) + signal.shape)
    objects = np.array([f"object{i % n_objects}" for i in range(len(images))])
    recording = make_recording(
        trials.reshape(-1, n_neuroids, len(bins)),
        stimulus_ids=np.tile(ids, n_repetitions),
        neuroid_ids=[f"planted.{n:03d}" for n in range(n_neuroids)],
        bins=bins, region=region,
        repetition=np.repeat(np.arange(n_repetitions), len(ids)),
        presentation_coords={"object_name": np.tile(objects, n_repetitions)},
        attrs={"latency_ms": float(latency_ms)},
    )
    return TemporalBenchmark(f"planted.{region}", region, recording, lambda: (images, ids),
                             visual_degrees=float(model.visual_degrees), stimulus_ms=stimulus_ms,
                             description=f"planted linear map, latency {latency_ms:g} ms")
