"""Batches of task trials as tensors, drawn from seeded NeuroGym environments.

A trial of a ``TrialEnv`` has observations ``env.ob`` (T, n_obs), target actions ``env.gt``
(T,) and named periods. :func:`draw_trials` stacks ``n`` trials (zero-padded to the longest)
into :class:`Trials`, whose ``mask`` weights the loss: 1 in the env's response periods
(``env.response_periods``, default ``("decision",)``), ``fixation_weight`` in the other periods
and 0 on padding. With ``fixation_weight=0`` the loss sees the response periods only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..errors import DataError

DEFAULT_RESPONSE_PERIODS = ("decision",)


def seed_env(env, seed: int):
    """Seed a NeuroGym env's trial generator (and its timing samplers); return it."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"task seed must be a non-negative integer, got {seed!r}")
    env.seed(int(seed))
    return env


def response_periods(env) -> tuple[str, ...]:
    """Periods whose target is the response (the loss and the decision read-out use them)."""
    return tuple(getattr(env, "response_periods", DEFAULT_RESPONSE_PERIODS))


@dataclass
class Trials:
    """``inputs`` (N, T, n_obs), ``targets`` (N, T) actions, ``mask`` (N, T) loss weights,
    ``response`` (N, T) bool (steps of the response periods), ``info`` (one row per trial:
    the trial's conditions, its ``length`` and period boundaries in steps, ``<period>_start/_end``, and the
    ideal observer's action ``ideal_choice`` when the env defines one)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    response: torch.Tensor
    info: pd.DataFrame
    dt: float

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(inputs, targets, mask)``, the batch format of :func:`neurovision.backend.training.task_loss`."""
        return self.inputs, self.targets, self.mask


def _scalar_conditions(trial: dict) -> dict:
    out = {}
    for key, value in trial.items():
        if isinstance(value, (bool, int, float, str, np.integer, np.floating, np.bool_)):
            out[key] = value.item() if isinstance(value, np.generic) else value
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float, np.number)) for v in value):
            out[key] = tuple(float(v) for v in value)
    return out


def draw_trials(env, n: int, seed: int | None = None, fixation_weight: float = 1.0) -> Trials:
    """Draw ``n`` new trials from ``env`` (seeded with ``seed`` first when given)."""
    if n < 1:
        raise DataError(f"need at least one trial, got n={n}")
    if seed is not None:
        seed_env(env, seed)
    periods = response_periods(env)
    obs, gts, rows = [], [], []
    for _ in range(n):
        trial = env.new_trial()
        missing = [p for p in periods if p not in env.start_ind]
        if missing:
            raise DataError(f"{type(env).__name__} trials have no period {missing}; its periods are "
                            f"{list(env.start_ind)}. Set env.response_periods to the response periods")
        obs.append(np.asarray(env.ob, dtype=np.float32))
        gts.append(np.asarray(env.gt, dtype=np.int64))
        row = _scalar_conditions(trial or {})
        if hasattr(env, "ideal_choice"):
            row["ideal_choice"] = int(env.ideal_choice())
        row["length"] = len(env.ob)
        for name in env.start_ind:
            row[f"{name}_start"], row[f"{name}_end"] = env.start_ind[name], env.end_ind[name]
        rows.append(row)
    length = max(o.shape[0] for o in obs)
    inputs = np.zeros((n, length, *obs[0].shape[1:]), dtype=np.float32)
    targets = np.zeros((n, length), dtype=np.int64)
    mask = np.zeros((n, length), dtype=np.float32)
    response = np.zeros((n, length), dtype=bool)
    for i, (o, g, row) in enumerate(zip(obs, gts, rows)):
        inputs[i, : len(o)], targets[i, : len(g)] = o, g
        mask[i, : len(o)] = fixation_weight
        for p in periods:
            response[i, row[f"{p}_start"]: row[f"{p}_end"]] = True
    mask[response] = 1.0
    return Trials(torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(mask),
                  torch.from_numpy(response), pd.DataFrame(rows), float(env.dt))


class TrialSampler:
    """Fresh trials for every batch: ``sampler(batch_size, generator) -> (inputs, targets, mask)``.

    The env is reseeded from ``generator`` for each batch, so a batch depends only on the
    generator's state (the training loop seeds it from the run seed and the step), which makes
    runs reproducible and resumable.
    """

    def __init__(self, env, fixation_weight: float = 1.0):
        self.env, self.fixation_weight = env, fixation_weight

    def __call__(self, batch_size: int, generator: torch.Generator):
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        return draw_trials(self.env, batch_size, seed, self.fixation_weight).tensors()


def concat_trials(parts: list[Trials]) -> Trials:
    """One :class:`Trials` from several (zero-padded to the longest; all with the same dt)."""
    if not parts:
        raise DataError("no trials to concatenate")
    if len({p.dt for p in parts}) > 1:
        raise DataError(f"trials with different steps {sorted({p.dt for p in parts})} ms cannot be joined")
    length = max(p.inputs.shape[1] for p in parts)

    def pad(t: torch.Tensor) -> torch.Tensor:
        extra = length - t.shape[1]
        return t if extra == 0 else torch.cat([t, t.new_zeros(t.shape[0], extra, *t.shape[2:])], 1)

    return Trials(torch.cat([pad(p.inputs) for p in parts]), torch.cat([pad(p.targets) for p in parts]),
                  torch.cat([pad(p.mask) for p in parts]), torch.cat([pad(p.response) for p in parts]),
                  pd.concat([p.info for p in parts], ignore_index=True), parts[0].dt)
