"""Hold a sample in memory over a delay and report whether the test matches it.

NeuroGym's ``DelayMatchSample`` (two stimulus directions on a 2-unit ring, white noise of std
``sigma / sqrt(dt)`` per step); action 1 = match, 2 = non-match. The ideal observer infers the
sample and the test from the sign of their summed channel differences and reports whether they
agree (Bayes-optimal for the two equiprobable directions).
"""
from neurogym.envs.native.delaymatchsample import DelayMatchSample

from neurovision.backend.taskenv import make_env

TIMING = {"fixation": 100, "sample": 300, "delay": 600, "test": 300, "decision": 300}


class DelayedMatchToSample(DelayMatchSample):
    __doc__ = DelayMatchSample.__doc__

    def ideal_choice(self) -> int:
        """Action of the ideal observer: 1 (match) if sample and test point the same way."""
        sample, test = (self.view_ob(p)[:, 1:] for p in ("sample", "test"))
        same = (sample[:, 0] - sample[:, 1]).sum() * (test[:, 0] - test[:, 1]).sum() > 0
        return 1 if same else 2


def build(dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs) -> DelayedMatchToSample:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(DelayedMatchToSample, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
