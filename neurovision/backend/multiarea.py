"""A frozen vision front-end feeding a trainable multi-area back-end.

``MultiAreaModel(frontend, frontend_area, backend)`` takes task observations
``[fixation, image (C, H, W) flattened]`` per back-end step (``backend.dt`` ms). For every
back-end step the front-end advances ``backend.dt / frontend.dt`` Euler steps with the image on
screen; the activity of ``frontend_area``, average-pooled to a ``pool x pool`` grid per channel
(flattened), is averaged over those sub-steps and given to the back-end together with the
fixation input. The back-end never feeds back into the front-end, so :meth:`features` (the whole
front-end part) can be computed once per trial and cached
(:mod:`neurovision.backend.cache`); training then only runs the back-end.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..dynamics.base import State, SteppedModel
from ..errors import ScheduleError, ShapeError
from .network import BackendOutput, MultiAreaBackend


def reduced_size(shape: tuple[int, ...], pool: int | None) -> int:
    """Number of features of an area of ``shape`` after pooling (C x pool x pool for maps)."""
    if len(shape) == 3 and pool:
        return shape[0] * min(pool, shape[1]) * min(pool, shape[2])
    return int(np.prod(shape))


class MultiAreaModel(SteppedModel):
    """Front-end (frozen, no gradients) -> ``frontend_area`` features -> back-end."""

    def __init__(self, frontend: SteppedModel, frontend_area: str, backend: MultiAreaBackend,
                 pool: int | None = 4):
        super().__init__()
        if not isinstance(frontend, SteppedModel):
            raise ShapeError(f"the front-end must be a SteppedModel (Euler-stepped, e.g. CordsNet); "
                             f"got {type(frontend).__name__}")
        frontend.check_area(frontend_area)
        if frontend.input_shape is None:
            raise ShapeError("the front-end declares no input_shape (C, H, W); it cannot see task images")
        substeps = backend.dt / frontend.dt
        if abs(substeps - round(substeps)) > 1e-6 or round(substeps) < 1:
            raise ScheduleError(f"the back-end step ({backend.dt:g} ms) must be a multiple of the "
                                f"front-end step ({frontend.dt:g} ms)")
        clash = set(frontend.areas) & set(backend.areas)
        if clash:
            raise ShapeError(f"front-end and back-end share area names {sorted(clash)}; rename the back-end areas")
        self.frontend = frontend.eval()
        for p in self.frontend.parameters():
            p.requires_grad_(False)
        self.backend = backend
        self.frontend_area, self.pool, self.substeps = frontend_area, pool, int(round(substeps))
        self.n_features = reduced_size(tuple(frontend.area_shape(frontend_area)), pool)
        if backend.n_inputs != 1 + self.n_features:
            raise ShapeError(
                f"the back-end takes {backend.n_inputs} inputs per step but the front-end area "
                f"{frontend_area!r} {tuple(frontend.area_shape(frontend_area))} pooled to {pool} gives "
                f"{self.n_features} features + 1 fixation input = {1 + self.n_features}; build the "
                f"back-end with n_inputs={1 + self.n_features}")
        self.areas = tuple(frontend.areas) + tuple(backend.areas)
        self.input_shape, self.dt = tuple(frontend.input_shape), backend.dt
        self.visual_degrees = frontend.visual_degrees

    def train(self, mode: bool = True):
        super().train(mode)
        self.frontend.eval()
        return self

    def area_shape(self, area: str) -> tuple[int, ...]:
        self.check_area(area)
        owner = self.backend if area in self.backend.areas else self.frontend
        return owner.area_shape(area)

    # -- front-end part -----------------------------------------------------------------------
    def reduce(self, activity: torch.Tensor) -> torch.Tensor:
        """Pooled, flattened front-end activity (B, n_features)."""
        if activity.ndim == 4 and self.pool:
            size = (min(self.pool, activity.shape[2]), min(self.pool, activity.shape[3]))
            activity = F.adaptive_avg_pool2d(activity, size)
        return activity.flatten(1)

    def check_observations(self, obs: torch.Tensor) -> None:
        """Raise :class:`ShapeError` unless ``obs`` is (B, T, 1 + C*H*W) for the front-end's image."""
        n = int(np.prod(self.input_shape))
        if obs.ndim != 3 or obs.shape[-1] != 1 + n:
            raise ShapeError(
                f"task observations of shape {tuple(obs.shape)} do not fit the front-end: it expects "
                f"(batch, time, 1 + {n}) = a fixation input and an image of shape {self.input_shape} "
                f"per step. Build the task with image_shape={self.input_shape}")

    def advance_frontend(self, state: State, drive) -> tuple[State, torch.Tensor]:
        """``substeps`` front-end steps under ``drive``; the mean pooled features over them."""
        total = 0.0
        for _ in range(self.substeps):
            state = self.frontend.step(state, drive)
            total = total + self.reduce(self.frontend.activity(state, self.frontend_area))
        return state, total / self.substeps

    @torch.no_grad()
    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """Back-end inputs ``[fixation, features]`` (B, T, 1 + n_features) of observations ``obs``."""
        self.check_observations(obs)
        fixation, images = obs[..., :1], obs[..., 1:].reshape(*obs.shape[:2], *self.input_shape)
        state = self.frontend.initial_state(obs.shape[0])
        out, drive = [], None
        for t in range(obs.shape[1]):
            if drive is None or not torch.equal(images[:, t], images[:, t - 1]):
                drive = self.frontend.encode(images[:, t])
            state, feats = self.advance_frontend(state, drive)
            out.append(feats)
        return torch.cat([fixation, torch.stack(out, 1)], -1)

    def forward(self, obs: torch.Tensor, record: bool = False) -> BackendOutput:
        """Run on observations ``obs`` (B, T, 1 + C*H*W), recomputing the front-end."""
        return self.backend(self.features(obs), record=record)

    # -- SteppedModel interface (one observation per step) --------------------------------------
    def initial_state(self, batch_size: int) -> State:
        return {**self.frontend.initial_state(batch_size), **self.backend.initial_state(batch_size)}

    def encode(self, stimulus: torch.Tensor):
        """``(fixation (B, 1), front-end drive)`` of one observation (B, 1 + C*H*W)."""
        self.check_observations(stimulus[:, None])
        image = stimulus[:, 1:].reshape(-1, *self.input_shape)
        return stimulus[:, :1], self.frontend.encode(image)

    def step(self, state: State, drive) -> State:
        if drive is None:
            raise ShapeError("a front-end/back-end model needs an observation at every step (blank = zeros)")
        fixation, image_drive = drive
        front = {a: state[a] for a in self.frontend.areas}
        front, feats = self.advance_frontend(front, image_drive)
        back = self.backend.step({a: state[a] for a in self.backend.areas},
                                 self.backend.encode(torch.cat([fixation, feats], -1)))
        return {**front, **back}

    def activity(self, state: State, area: str) -> torch.Tensor:
        owner = self.backend if area in self.backend.areas else self.frontend
        return owner.activity(state, area)


def frontend_spec(spec: str) -> tuple[str, str | None]:
    """``"cordsnet-r2-cifar10:area2"`` -> ``("cordsnet-r2-cifar10", "area2")`` (area optional)."""
    model_id, _, area = spec.partition(":")
    return model_id, area or None


def default_pool(shape: tuple[int, ...], max_features: int = 1024) -> int | None:
    """The largest pooling grid (<= map size) keeping at most ``max_features`` features."""
    if len(shape) != 3:
        return None
    return max(1, min(shape[1], int(math.sqrt(max_features / shape[0]))))
