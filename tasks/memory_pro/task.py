"""Memory pro (Yang et al. 2019): hold a direction through a delay, then report it on a ring."""
import numpy as np
from neurogym.core import TrialEnv
from neurogym.utils import spaces

from neurovision.backend.taskenv import make_env


class MemoryPro(TrialEnv):
    """Memory-guided response to a direction (the "memory pro" / delayed-go task of Yang et
    al. 2019, Nat. Neurosci.).

    A direction ``theta`` drawn uniformly on the circle is shown as a Gaussian bump (width
    pi/8, height 0.8) on a ring of ``dim_ring`` input units during the stimulus period and
    removed for the delay; when the fixation input turns off, the network must choose the
    output unit of the ring nearest to ``theta`` (actions 1..dim_ring; decision rule ``ring``).

    Args:
        dt: step in ms.
        dim_ring: input and output units on the ring.
        timing: durations in ms of fixation, stimulus, delay and decision.
    """

    metadata = {
        "paper_link": "https://www.nature.com/articles/s41593-018-0310-2",
        "paper_name": "Task representations in neural networks trained to perform many cognitive tasks",
        "tags": ["working memory", "circular variable", "ring output", "supervised"],
    }
    decision_rule = "ring"
    response_periods = ("decision",)

    def __init__(self, dt=20, dim_ring=16, timing=None):
        super().__init__(dt=dt)
        self.dim_ring = int(dim_ring)
        self.theta = np.arange(self.dim_ring) * 2 * np.pi / self.dim_ring
        self.timing = {"fixation": 200, "stimulus": 200, "delay": 600, "decision": 200, **(timing or {})}
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(1 + self.dim_ring,), dtype=np.float32,
                                            name={"fixation": 0, "stimulus": range(1, self.dim_ring + 1)})
        self.action_space = spaces.Discrete(1 + self.dim_ring,
                                            name={"fixation": 0, "choice": range(1, self.dim_ring + 1)})

    def _new_trial(self, **kwargs):
        trial = {"theta": float(self.rng.uniform(0, 2 * np.pi))}
        trial.update(kwargs)
        nearest = int(np.round(trial["theta"] / (2 * np.pi / self.dim_ring))) % self.dim_ring
        trial["ground_truth"] = nearest
        distance = np.angle(np.exp(1j * (self.theta - trial["theta"])))
        bump = 0.8 * np.exp(-0.5 * (distance / (np.pi / 8)) ** 2)
        self.add_period(["fixation", "stimulus", "delay", "decision"])
        self.add_ob(1, ["fixation", "stimulus", "delay"], where="fixation")
        self.add_ob(bump, "stimulus", where="stimulus")
        self.set_groundtruth(1 + nearest, "decision")
        return trial


def build(dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs) -> MemoryPro:
    """The task at step ``dt`` (ms), seeded with ``seed``; ``timing`` updates the durations (ms)."""
    return make_env(MemoryPro, {}, dt=dt, seed=seed, timing=timing, **kwargs)
