"""Untrained controls: the scored model's architecture and configuration with random weights.

* A trained CordsNet (``cordsnet-r2-cifar10``, ``cordsnet-r2-fmnist``, ...) -> the registered
  untrained ``cordsnet-r{depth}`` built with the trained model's whole configuration (image
  size, channels, normalisation, tau, dt, activation, ...).
* A registered architecture that is built with random weights (``cordsnet-r4``, ``dcn-ode``,
  ``recurrent-resnet``, ...: building it under two seeds gives different weights) -> itself.
* Anything else (weights loaded from a checkpoint of an unknown architecture, models without
  weights such as the baselines) has no known counterpart and raises
  :class:`~neurovision.errors.NeurovisionError`.

Each control builds under its own seed (torch, numpy and ``random`` seeded, the caller's
generator states restored afterwards), so seeds give different weights and a seed always the
same ones.
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

import torch

from ...errors import NeurovisionError
from ...registry import load_model
from ...seeding import rng_state, seed_everything, set_rng_state


@contextlib.contextmanager
def seeded(seed: int):
    """Run the block with every generator seeded by ``seed``; restore the previous states after."""
    saved = rng_state()
    seed_everything(seed)
    try:
        yield
    finally:
        set_rng_state(saved)


@dataclass(frozen=True)
class UntrainedControl:
    """Zero-argument factory of ``architecture(**overrides)`` built under ``seed``, standing for ``model_id``."""

    model_id: str
    architecture: str
    seed: int
    overrides: dict = field(default_factory=dict)

    @property
    def identifier(self) -> str:
        return f"{self.model_id}.untrained-seed{self.seed}"

    def __call__(self):
        with seeded(self.seed):
            return load_model(self.architecture, **self.overrides)


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def is_random_init(model_id: str) -> bool:
    """Whether building ``model_id`` under seeds 0 and 1 gives different weights."""
    first, second = (UntrainedControl(model_id, model_id, s)() for s in (0, 1))
    a, b = _state(first), _state(second)
    return bool(a) and any(not torch.equal(a[k], b[k]) for k in a if k in b)


def untrained_counterpart(model_id: str) -> tuple[str, dict]:
    """``(architecture id, keyword overrides)`` building ``model_id``'s architecture untrained."""
    from ..cordsnet.network import CordsNet

    model = load_model(model_id)
    if isinstance(model, CordsNet):
        config = {f.name: getattr(model.config, f.name) for f in dataclasses.fields(model.config)}
        return f"cordsnet-r{config.pop('depth')}", config
    if is_random_init(model_id):
        return model_id, {}
    raise NeurovisionError(
        f"model {model_id!r} has no known untrained counterpart: it is not a CordsNet and building "
        "it under different seeds gives the same weights (weights loaded from a file, or none). "
        "Untrained controls exist for CordsNet ids (e.g. cordsnet-r2-cifar10 -> cordsnet-r2 with "
        "its configuration) and for registered random-weight architectures (e.g. cordsnet-r4, "
        "dcn-ode); build one by hand with UntrainedControl(model_id, architecture, seed, overrides)"
    )


def untrained_controls(model_id: str, n_seeds: int = 3) -> list[UntrainedControl]:
    """Factories of ``model_id``'s untrained counterpart for seeds ``0 .. n_seeds - 1``."""
    if int(n_seeds) < 1:
        raise ValueError(f"n_seeds must be >= 1, got {n_seeds}")
    architecture, overrides = untrained_counterpart(model_id)
    return [UntrainedControl(model_id, architecture, seed, overrides) for seed in range(int(n_seeds))]
