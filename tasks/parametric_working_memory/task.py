"""Compare the magnitudes of two noisy stimuli separated by a delay (vibrotactile flutter).

NeuroGym's ``DelayComparison``: stimulus values from the pairs (18, 10) ... (34, 26) Hz mapped to
[0.5, 1], white noise of std ``sigma / sqrt(dt)`` per step; action 1 if f1 > f2, else 2. Every
pair differs by the same 8 Hz, so comparing the two period means is the Bayes-optimal rule.
"""
from neurogym.envs.native.delaycomparison import DelayComparison

from neurovision.backend.taskenv import make_env

TIMING = {"fixation": 100, "stimulus1": 300, "delay": 600, "stimulus2": 300, "decision": 100}


class ParametricWorkingMemory(DelayComparison):
    __doc__ = DelayComparison.__doc__

    def ideal_choice(self) -> int:
        """Action of the ideal observer: 1 if the first stimulus mean exceeds the second."""
        first = self.view_ob("stimulus1")[:, 1].mean()
        second = self.view_ob("stimulus2")[:, 1].mean()
        return 1 if first > second else 2


def build(dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs) -> ParametricWorkingMemory:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(ParametricWorkingMemory, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
