"""Report the motion or the colour of a two-feature stimulus, as an explicit context cue says.

NeuroGym's ``ContextDecisionMaking`` with ``use_expl_context=True``: both modalities carry
evidence (coherences 5, 15, 50 %) for independently drawn choices; the context inputs say which
one is relevant. The ideal observer sums the relevant modality's channel difference.
"""
from neurogym.envs.native.contextdecisionmaking import ContextDecisionMaking

from neurovision.backend.taskenv import make_env

TIMING = {"fixation": 100, "stimulus": 800, "delay": (200, 300, 400), "decision": 100}


class ContextDecision(ContextDecisionMaking):
    __doc__ = ContextDecisionMaking.__doc__

    def ideal_choice(self) -> int:
        """Action of the ideal observer: sign of the relevant modality's evidence."""
        stim = self.view_ob("stimulus")
        first = 1 if self.trial["context"] == 0 else 3
        return 1 if (stim[:, first] - stim[:, first + 1]).sum() > 0 else 2


def build(dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs) -> ContextDecision:
    """The task with an explicit context cue, durations ``TIMING`` (ms), seeded with ``seed``."""
    kwargs.setdefault("use_expl_context", True)
    return make_env(ContextDecision, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
