"""Oculomotor delayed response (Funahashi, Bruce & Goldman-Rakic 1989) with a rendered cue."""
from neurovision.backend.taskenv import VisualTrialEnv, make_env
from neurovision.data.stimuli import saccade_cue

#: original: cue 500 ms, delay 1.5-6 s; shortened here for CPU training
TIMING = {"fixation": 100, "cue": 200, "delay": 400, "decision": 200}


class DelayedSaccade(VisualTrialEnv):
    """Saccade to the remembered location of a brief cue once the fixation point goes off.

    A white square flashes at one of ``n_locations`` positions evenly spaced on a ring around
    fixation (location 0 to the right, counter-clockwise), then the screen stays blank through
    a delay. The fixation input turns off at the decision period (the go signal); the network
    answers with a ring of ``n_locations`` output units (actions 1..n), read as the population
    vector of their probabilities (decision rule ``ring``).

    Args:
        dt: step in ms.
        image_shape: (C, H, W) of the screen (the front-end's input).
        n_locations: cue positions on the ring.
        eccentricity: ring radius as a fraction of the image side.
        timing: durations in ms of fixation, cue, delay and decision.
        rewards: ``correct`` and ``fail`` rewards of the gymnasium API.
    """

    metadata = {
        "paper_link": "https://journals.physiology.org/doi/10.1152/jn.1989.61.2.331",
        "paper_name": "Mnemonic coding of visual space in the monkey's dorsolateral prefrontal cortex",
        "tags": ["visual", "working memory", "spatial", "ring output", "supervised"],
    }
    decision_rule = "ring"
    #: trial column that sorts PSTHs, and the period onset they are aligned to
    report_condition, report_align = "location", "cue_start"

    def __init__(self, dt=20, image_shape=(1, 32, 32), n_locations=8, eccentricity=0.35,
                 timing=None, rewards=None):
        names = {"fixation": 0, "saccade": list(range(1, n_locations + 1))}
        super().__init__(dt, image_shape, 1 + n_locations, names)
        self.n_locations, self.eccentricity = int(n_locations), float(eccentricity)
        self.rewards = {"correct": 1.0, "fail": 0.0, **(rewards or {})}
        self.timing = {**TIMING, **(timing or {})}

    def _new_trial(self, **kwargs):
        trial = {"location": int(self.rng.choice(self.n_locations))}
        trial.update(kwargs)
        trial["angle_deg"] = 360.0 * trial["location"] / self.n_locations

        self.add_period(["fixation", "cue", "delay", "decision"])
        self.add_ob(1, ["fixation", "cue", "delay"], where="fixation")
        cue = saccade_cue(trial["location"], self.n_locations, self.image_shape[1:], self.eccentricity)
        self.show(self.to_image(cue), "cue")
        self.set_groundtruth(1 + trial["location"], "decision")
        return trial


def build(dt=20, seed=0, timing=None, **kwargs) -> DelayedSaccade:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(DelayedSaccade, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
