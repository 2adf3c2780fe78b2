"""Reaction-time direction discrimination of random-dot motion (Roitman & Shadlen 2002)."""
import numpy as np

from neurovision.backend.taskenv import VisualTrialEnv, make_env
from neurovision.data.stimuli import RandomDots

#: original: dots until the saccade (median RT ~650 ms); motion shown for up to 800 ms here
TIMING = {"fixation": 100, "stimulus": 800}
COHERENCES = (0.0, 3.2, 6.4, 12.8, 25.6, 51.2)
#: dots for a 32 px screen: 4 dots of radius 1.5 px per frame, coherent dots displaced 3 px
#: every frame. The original interleaves 3 dot sets (a set moves every third 13 ms frame); use
#: ``dots={"interleave": 3, ...}`` for that algorithm at screen sizes where the shift is visible.
DOTS = {"dots_per_frame": 4, "step_px": 3.0, "interleave": 1, "dot_radius": 1.5}


class ReactionTimeDots(VisualTrialEnv):
    """Decide whether random dots move right (action 1) or left (action 2), as soon as ready.

    After fixation, random-dot motion of one of ``coherences`` (%) plays until the end of the
    trial; each frame lasts one step. The fixation input stays on (as the fixation point did),
    so nothing but the evidence says when to answer. The target is the motion direction from
    motion onset on: trained with cross-entropy, the network's choice probabilities estimate the
    posterior given the evidence so far, and the decision is the first step at which one reaches
    the threshold (decision rule ``threshold``), which gives the reaction time. At 0% coherence
    the rewarded direction is drawn at random, as in the experiment.

    Args:
        dt: step (= frame duration) in ms.
        image_shape: (C, H, W) of the screen (the front-end's input).
        coherences: motion coherences in %.
        dots: keyword arguments of :class:`neurovision.data.stimuli.RandomDots` (aperture,
            dots per frame, displacement, interleaved sets, dot radius) updating ``DOTS``.
        timing: durations in ms of fixation and stimulus.
        rewards: ``correct`` and ``fail`` rewards of the gymnasium API.
    """

    metadata = {
        "paper_link": "https://www.jneurosci.org/content/22/21/9475",
        "paper_name": "Response of neurons in the lateral intraparietal area during a combined "
                      "visual discrimination reaction time task",
        "tags": ["visual", "perceptual", "reaction time", "two-alternative", "supervised"],
    }
    decision_rule = "threshold"
    response_periods = ("stimulus",)
    #: trial column that sorts PSTHs, and the period onset they are aligned to
    report_condition, report_align = "signed_coherence", "stimulus_start"

    def __init__(self, dt=20, image_shape=(1, 32, 32), coherences=COHERENCES, dots=None,
                 timing=None, rewards=None):
        super().__init__(dt, image_shape, 3, {"fixation": 0, "choice": [1, 2]})
        self.coherences = tuple(float(c) for c in coherences)
        self.dots = RandomDots(self.image_shape[1:], **{**DOTS, **(dots or {})})
        self.rewards = {"correct": 1.0, "fail": 0.0, **(rewards or {})}
        self.timing = {**TIMING, **(timing or {})}

    def _new_trial(self, **kwargs):
        trial = {"direction": int(self.rng.choice([1, 2])), "coherence": float(self.rng.choice(self.coherences))}
        trial.update(kwargs)
        sign = 1.0 if trial["direction"] == 1 else -1.0
        trial["signed_coherence"] = sign * trial["coherence"]

        self.add_period(["fixation", "stimulus"])
        self.add_ob(1, where="fixation")
        n_frames = self.view_ob("stimulus").shape[0]
        angle = 0.0 if trial["direction"] == 1 else np.pi
        frames = self.dots.frames(n_frames, trial["coherence"] / 100, angle, self.rng)
        self.show_frames(np.stack([self.to_image(f) for f in frames]), "stimulus")
        self.set_groundtruth(trial["direction"], "stimulus")
        return trial


def build(dt=20, seed=0, timing=None, **kwargs) -> ReactionTimeDots:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(ReactionTimeDots, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
