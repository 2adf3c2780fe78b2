"""Two-alternative motion discrimination: integrate a noisy two-channel stimulus, then choose.

NeuroGym's ``PerceptualDecisionMaking`` (channel ``i`` shows ``0.5 + cos(theta_i - theta_gt)
coh / 200`` plus white noise of std ``sigma / sqrt(dt)`` per step; coherences 0, 6.4, 12.8,
25.6, 51.2 %) with a 1 s stimulus. The ideal observer sums each channel over the stimulus
period and picks the larger (optimal for equal-variance Gaussian noise and symmetric choices).
"""
import numpy as np
from neurogym.envs.native.perceptualdecisionmaking import PerceptualDecisionMaking

from neurovision.backend.taskenv import make_env

TIMING = {"fixation": 100, "stimulus": 1000, "delay": 0, "decision": 100}


class PerceptualDecision(PerceptualDecisionMaking):
    __doc__ = PerceptualDecisionMaking.__doc__

    def ideal_choice(self) -> int:
        """Action of the ideal observer on the current trial (1 + index of the larger channel)."""
        return 1 + int(np.argmax(self.view_ob("stimulus")[:, 1:].sum(0)))


def build(dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs) -> PerceptualDecision:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(PerceptualDecision, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
