"""Delayed match-to-category (Freedman, Riesenhuber, Poggio & Miller 2001) on cat/dog photos."""
import numpy as np
import torch

from neurovision.backend.taskenv import VisualTrialEnv, make_env
from neurovision.data.datasets import load_dataset
from neurovision.data.images import load_image_folder, prepare_images
from neurovision.errors import DataError

#: original: fixation 500, sample 600, delay 1000, test 600 ms; shortened here for CPU training
TIMING = {"fixation": 100, "sample": 200, "delay": 300, "test": 100, "decision": 200}
CATEGORIES = ("cat", "dog")


def category_images(split: str, root=None) -> list[torch.Tensor]:
    """Images of each category: CIFAR-10 ``cat``/``dog`` of ``split``, or ``root/cat``, ``root/dog``."""
    if root is not None:
        return [load_image_folder(f"{root}/{name}")[0] for name in CATEGORIES]
    data = load_dataset("cifar10-subset", split)
    return [data.images[data.labels == data.classes.index(name)] for name in CATEGORIES]


class DelayedMatchToCategory(VisualTrialEnv):
    """Report whether a test photograph belongs to the same category (cat or dog) as the sample.

    A sample photograph (cat or dog) is followed by a delay and a test photograph, a different
    image of the same category (match, half of the trials) or of the other one (non-match). The
    fixation input is on until the decision period, when the network reports match (action 1) or
    non-match (action 2) with the test still on screen. Training and evaluation draw from
    disjoint image sets (``split``).

    Args:
        dt: step in ms.
        image_shape: (C, H, W) of the screen; photographs are resized/converted to it.
        split: ``train`` or ``test`` images of the CIFAR-10 subset.
        root: alternatively a folder with ``cat/`` and ``dog/`` image sub-folders.
        timing: durations in ms of fixation, sample, delay, test and decision.
        rewards: ``correct`` and ``fail`` rewards of the gymnasium API.
    """

    metadata = {
        "paper_link": "https://www.science.org/doi/10.1126/science.291.5502.312",
        "paper_name": "Categorical representation of visual stimuli in the primate prefrontal cortex",
        "tags": ["visual", "working memory", "categorization", "supervised"],
    }
    image_splits = ("train", "test")
    #: trial column that sorts PSTHs, and the period onset they are aligned to
    report_condition, report_align = "sample_category", "sample_start"

    def __init__(self, dt=20, image_shape=(3, 32, 32), split="train", root=None, timing=None, rewards=None):
        super().__init__(dt, image_shape, 3, {"fixation": 0, "match": 1, "non-match": 2})
        if split not in self.image_splits:
            raise DataError(f"split must be one of {self.image_splits}, got {split!r}")
        self.images = [prepare_images(x, self.image_shape).numpy() for x in category_images(split, root)]
        if any(len(x) < 2 for x in self.images):
            raise DataError("each category needs at least two images")
        self.rewards = {"correct": 1.0, "fail": 0.0, **(rewards or {})}
        self.timing = {**TIMING, **(timing or {})}

    def _new_trial(self, **kwargs):
        trial = {"sample_category": int(self.rng.choice(2)), "match": bool(self.rng.rand() < 0.5)}
        trial.update(kwargs)
        sample_cat = trial["sample_category"]
        test_cat = sample_cat if trial["match"] else 1 - sample_cat
        trial["sample_image"] = int(self.rng.choice(len(self.images[sample_cat])))
        choices = np.arange(len(self.images[test_cat]))
        if test_cat == sample_cat:
            choices = choices[choices != trial["sample_image"]]
        trial["test_image"] = int(self.rng.choice(choices))
        trial["test_category"] = test_cat

        self.delayed_match_trial(self.images[sample_cat][trial["sample_image"]],
                                 self.images[test_cat][trial["test_image"]], trial["match"])
        return trial


def build(dt=20, seed=0, timing=None, **kwargs) -> DelayedMatchToCategory:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(DelayedMatchToCategory, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
