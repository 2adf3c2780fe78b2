"""Delayed match-to-numerosity (Nieder, Freedman & Miller 2002), with dot-array images."""
from neurovision.backend.taskenv import VisualTrialEnv, make_env
from neurovision.data.stimuli import DOT_CONTROLS, dot_array
from neurovision.errors import DataError, UnknownIdError

NONMATCH = ("any", "adjacent")

#: original: fixation 500, sample 800, delay 1000, test 1200 ms; shortened here for CPU training
TIMING = {"fixation": 100, "sample": 200, "delay": 300, "test": 100, "decision": 200}


class DelayedMatchToNumerosity(VisualTrialEnv):
    """Remember how many dots the sample showed; report whether the test shows as many.

    A sample array of 1..5 dots is followed by a delay and a test array that shows either the
    same numerosity (match, half of the trials) or another one (non-match): any other numerosity
    (``nonmatch="any"``), so that P("match") can fall off with the numerical distance as in the
    monkeys' behaviour, or only one more or one fewer dot (``"adjacent"``, the hardest
    discrimination). Sample and test are always different images. Each trial draws one stimulus control (standard,
    equal total area, equal density) used for both arrays, so that neither total luminance nor
    density predicts numerosity across trials. The fixation input is on until the decision
    period, when the network reports match (action 1) or non-match (action 2) while the test is
    still on screen.

    Args:
        dt: step in ms.
        image_shape: (C, H, W) of the screen (the front-end's input).
        numerosities: numbers of dots used.
        controls: stimulus controls drawn from (see :func:`neurovision.data.stimuli.dot_array`).
        nonmatch: ``any`` other numerosity or ``adjacent`` ones (±1) on non-match trials.
        timing: durations in ms of fixation, sample, delay, test and decision.
        rewards: ``correct`` and ``fail`` rewards of the gymnasium API.
    """

    metadata = {
        "paper_link": "https://www.science.org/doi/10.1126/science.1072493",
        "paper_name": "Representation of the quantity of visual items in the primate prefrontal cortex",
        "tags": ["visual", "working memory", "numerosity", "supervised"],
    }

    #: trial column that sorts PSTHs, and the period onset they are aligned to
    report_condition, report_align = "sample", "sample_start"

    def __init__(self, dt=20, image_shape=(1, 32, 32), numerosities=(1, 2, 3, 4, 5),
                 controls=DOT_CONTROLS, nonmatch="any", timing=None, rewards=None):
        super().__init__(dt, image_shape, 3, {"fixation": 0, "match": 1, "non-match": 2})
        if nonmatch not in NONMATCH:
            raise UnknownIdError("non-match rule", nonmatch, list(NONMATCH))
        if len(numerosities) < 2:
            raise DataError(f"a match task needs at least two numerosities, got {tuple(numerosities)}")
        self.nonmatch = nonmatch
        self.numerosities, self.controls = tuple(numerosities), tuple(controls)
        self.rewards = {"correct": 1.0, "fail": 0.0, **(rewards or {})}
        self.timing = {**TIMING, **(timing or {})}

    def _test_numerosity(self, sample, match):
        if match:
            return sample
        others = (sample - 1, sample + 1) if self.nonmatch == "adjacent" else self.numerosities
        options = [n for n in others if n in self.numerosities and n != sample]
        return int(self.rng.choice(options))

    def _new_trial(self, **kwargs):
        trial = {
            "sample": int(self.rng.choice(self.numerosities)),
            "match": bool(self.rng.rand() < 0.5),
            "control": str(self.rng.choice(self.controls)),
        }
        trial.update(kwargs)
        trial["test"] = self._test_numerosity(trial["sample"], trial["match"])

        sample, test = (self.to_image(dot_array(n, self.image_shape[1:], self.rng, trial["control"],
                                                max_n=max(self.numerosities)))
                        for n in (trial["sample"], trial["test"]))
        self.delayed_match_trial(sample, test, trial["match"])
        return trial


def build(dt=20, seed=0, timing=None, **kwargs) -> DelayedMatchToNumerosity:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(DelayedMatchToNumerosity, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
