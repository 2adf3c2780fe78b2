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


def planted_arrays(n_stimuli: int = 60, n_features: int = 8, n_bins: int = 4, n_neuroids: int = 10,
                   signal: float = 1.0, shared: float = 1.0, model_noise: float = 1.0,
                   gains=None, lead_bins: int = 0, seed: int = 0) -> dict:
    """Model activity and neural responses as arrays with a known relation, for calibration.

    A latent ``z_t`` (stimulus, n_features) per bin is ``sqrt(shared) c + sqrt(1 - shared) u_t``
    (``c`` common to all bins, ``u_t`` specific to bin ``t``): ``shared = 1`` is selectivity
    stable over time, lower values tuning that changes from bin to bin. Model activity in bin
    ``t`` is ``z_t + model_noise * e_t``; neural responses are ``gains[t] * signal * z_t W / sqrt(F)
    + noise`` (unit-variance noise, ``signal = 0``: no relation at all). ``lead_bins`` silent
    (noise-only) model bins come first, so the true model-to-neuron shift is ``lead_bins``
    bins. Returns ``source`` (stimulus, lead_bins + n_bins, feature), ``target`` (stimulus,
    n_bins, neuroid) and ``latent``.
    """
    rng = np.random.default_rng(seed)
    gains = np.ones(n_bins) if gains is None else np.asarray(gains, float)
    common = rng.normal(size=(n_stimuli, 1, n_features))
    own = rng.normal(size=(n_stimuli, n_bins, n_features))
    latent = np.sqrt(shared) * common + np.sqrt(1 - shared) * own
    weights = rng.normal(size=(n_features, n_neuroids)) / np.sqrt(n_features)
    target = signal * gains[None, :, None] * (latent @ weights) + rng.normal(size=(n_stimuli, n_bins, n_neuroids))
    model = latent + model_noise * rng.normal(size=latent.shape)
    lead = rng.normal(size=(n_stimuli, lead_bins, n_features))
    return {"source": np.concatenate([lead, model], axis=1), "target": target, "latent": latent}
