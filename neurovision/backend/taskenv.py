"""Building seeded NeuroGym task environments, and the base class of the visual tasks.

Classic tasks reuse NeuroGym's implementations through :func:`make_env`. Visual tasks
subclass :class:`VisualTrialEnv`, whose observation at every step is the image on screen
(C, H, W, flattened) preceded by one fixation input: ``ob[t] = [fixation, *image.ravel()]``.
"""
from __future__ import annotations

import numpy as np
from neurogym.core import TrialEnv
from neurogym.utils import spaces

from ..errors import ShapeError
from .trials import seed_env


def make_env(cls, timing_defaults: dict, dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs):
    """``cls(dt=dt, timing=defaults updated by timing, **kwargs)`` seeded with ``seed``.

    Durations are in ms; NeuroGym rounds each down to a multiple of ``dt``.
    """
    env = cls(dt=dt, timing={**timing_defaults, **(timing or {})}, **kwargs)
    return seed_env(env, seed)


class VisualTrialEnv(TrialEnv):
    """A TrialEnv whose observation is ``[fixation, image (C, H, W) flattened]`` every step.

    Subclasses render images with the helpers of :mod:`neurovision.data.stimuli`, put them on
    screen with :meth:`show` (one image for a whole period) or :meth:`show_frames` (one frame
    per step), and raise the fixation input with ``self.add_ob(1, period, where="fixation")``.
    ``response_periods`` name the periods where the target is the response.
    """

    response_periods: tuple[str, ...] = ("decision",)

    def __init__(self, dt: float, image_shape: tuple[int, int, int], n_actions: int, action_names: dict):
        super().__init__(dt=dt)
        image_shape = tuple(int(v) for v in image_shape)
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ShapeError(f"image_shape must be (channels, height, width), got {image_shape}")
        self.image_shape = image_shape
        n_pixels = int(np.prod(image_shape))
        self.observation_space = spaces.Box(
            0.0, 1.0, shape=(1 + n_pixels,), dtype=np.float32,
            name={"fixation": 0, "image": slice(1, 1 + n_pixels)})
        self.action_space = spaces.Discrete(n_actions, name=action_names)

    def to_image(self, gray: np.ndarray) -> np.ndarray:
        """A (H, W) luminance image in [0, 1] as (C, H, W) for this env's channel count."""
        if gray.shape != self.image_shape[1:]:
            raise ShapeError(f"rendered image is {gray.shape}, the screen is {self.image_shape[1:]}")
        return np.broadcast_to(gray, self.image_shape)

    def show(self, image: np.ndarray, period: str) -> None:
        """Put ``image`` (C, H, W) on screen for the whole of ``period``."""
        if tuple(image.shape) != self.image_shape:
            raise ShapeError(f"image of shape {tuple(image.shape)} on a screen of {self.image_shape}")
        self.add_ob(np.asarray(image, dtype=np.float32).reshape(-1), period, where="image")

    def show_frames(self, frames: np.ndarray, period: str) -> None:
        """Show ``frames`` (n_steps, C, H, W), one per step of ``period``."""
        view = self.view_ob(period)
        if frames.shape != (view.shape[0], *self.image_shape):
            raise ShapeError(f"{period!r} lasts {view.shape[0]} steps of {self.image_shape}; "
                             f"got frames of shape {frames.shape}")
        view[:, 1:] = frames.reshape(len(frames), -1)

    def delayed_match_trial(self, sample: np.ndarray, test: np.ndarray, match: bool) -> None:
        """Periods and observations of a delayed match trial: fixation, ``sample``, delay,
        ``test`` (kept on screen through the decision period); fixation input on until the
        decision; target 1 (match) or 2 (non-match) during the decision period."""
        self.add_period(["fixation", "sample", "delay", "test", "decision"])
        self.add_ob(1, ["fixation", "sample", "delay", "test"], where="fixation")
        self.show(sample, "sample")
        self.show(test, "test")
        self.show(test, "decision")
        self.set_groundtruth(1 if match else 2, "decision")

    def _step(self, action):
        """Fixation breaks are ignored (no abort); the first non-fixation response ends the trial."""
        reward, new_trial = 0.0, False
        gt = self.gt_now
        if any(self.in_period(p) for p in self.response_periods) and action != 0:
            new_trial = True
            reward = self.rewards["correct"] if action == gt else self.rewards["fail"]
            self.performance = float(action == gt)
        return self.ob_now, reward, False, False, {"new_trial": new_trial, "gt": gt}
