"""Delayed match-to-category (Freedman, Riesenhuber, Poggio & Miller 2001) on cat/dog images."""
import numpy as np
import torch

from neurovision.backend.taskenv import VisualTrialEnv, make_env
from neurovision.data.datasets import load_dataset
from neurovision.data.images import load_image_folder, prepare_images
from neurovision.errors import DataError, UnknownIdError

#: original: fixation 500, sample 600, delay 1000, test 600 ms; shortened here for CPU training
TIMING = {"fixation": 100, "sample": 200, "delay": 300, "test": 100, "decision": 200}
CATEGORIES = ("cat", "dog")
STIMULUS_SETS = ("morphs", "photographs")
SPLITS = ("train", "test")
#: cat fraction of the sample morphs of the original experiment (100:0, 80:20, 60:40 and mirrors)
MORPH_LEVELS = (1.0, 0.8, 0.6, 0.4, 0.2, 0.0)


def category_images(split: str, root=None) -> list[torch.Tensor]:
    """Images of each category: CIFAR-10 ``cat``/``dog`` of ``split``, or ``root/cat``, ``root/dog``."""
    if root is not None:
        return [load_image_folder(f"{root}/{name}")[0] for name in CATEGORIES]
    data = load_dataset("cifar10-subset", split)
    return [data.images[data.labels == data.classes.index(name)] for name in CATEGORIES]


def morph(cat: np.ndarray, dog: np.ndarray, level: float) -> np.ndarray:
    """The pixel cross-fade ``level * cat + (1 - level) * dog`` of two (C, H, W) prototypes."""
    return (level * cat + (1.0 - level) * dog).astype(np.float32)


def morph_points(n_prototypes: int, levels) -> list[tuple[int, int, float]]:
    """Distinct images ``(cat prototype, dog prototype, cat fraction)`` of the morph lines at
    ``levels``; a pure prototype (fraction 1 or 0) is listed once, with the other index 0."""
    points = {(i if v > 0 else 0, j if v < 1 else 0, v)
              for v in levels for i in range(n_prototypes) for j in range(n_prototypes)}
    return sorted(points, key=lambda p: (-p[2], p[0], p[1]))


class DelayedMatchToCategory(VisualTrialEnv):
    """Report whether a test image belongs to the same category (cat or dog) as the sample.

    A sample image is followed by a delay and a test image, a different image of the same
    category (match, half of the trials) or of the other one (non-match). The fixation input
    is on until the decision period, when the network reports match (action 1) or non-match
    (action 2) with the test still on screen.

    Two stimulus sets:

    * ``morphs`` (the original design): ``n_prototypes`` cat and as many dog photographs
      (drawn with ``prototype_seed``) span ``n_prototypes**2`` cat-dog morph lines; every image
      is a point ``level`` (cat fraction, from ``levels``) on one line, and its category is the
      majority one (cat when ``level > 0.5``). The original morphs followed point
      correspondences between 3-D models; here a morph is the pixel cross-fade of two
      photographs (:func:`morph`). Training and evaluation trials share the prototypes, as
      they did for the monkeys.
    * ``photographs``: every cat and dog photograph of ``split``; training and evaluation draw
      from disjoint image sets, so the task also asks the front-end to generalise the
      categories to new photographs.

    Args:
        dt: step in ms.
        image_shape: (C, H, W) of the screen; photographs are resized/converted to it.
        stimuli: ``morphs`` or ``photographs``.
        split: ``train`` or ``test`` photographs (``photographs`` only; prototypes come from
            ``train``).
        root: alternatively a folder with ``cat/`` and ``dog/`` image sub-folders.
        n_prototypes: prototypes per category (``morphs``).
        levels: cat fractions of the morphs shown (``morphs``; 0.5 has no category).
        prototype_seed: seed of the prototype draw (``morphs``).
        timing: durations in ms of fixation, sample, delay, test and decision.
        rewards: ``correct`` and ``fail`` rewards of the gymnasium API.
    """

    metadata = {
        "paper_link": "https://www.science.org/doi/10.1126/science.291.5502.312",
        "paper_name": "Categorical representation of visual stimuli in the primate prefrontal cortex",
        "tags": ["visual", "working memory", "categorization", "supervised"],
    }
    #: aligned to the sample onset; PSTHs sorted by the sample's category or morph level
    report_align = "sample_start"

    def __init__(self, dt=20, image_shape=(3, 32, 32), stimuli="morphs", split="train", root=None,
                 n_prototypes=3, levels=MORPH_LEVELS, prototype_seed=0, timing=None, rewards=None):
        super().__init__(dt, image_shape, 3, {"fixation": 0, "match": 1, "non-match": 2})
        if stimuli not in STIMULUS_SETS:
            raise UnknownIdError("cat/dog stimulus set", stimuli, list(STIMULUS_SETS))
        if split not in SPLITS:
            raise DataError(f"split must be one of {SPLITS}, got {split!r}")
        self.stimuli = stimuli
        images = [prepare_images(x, self.image_shape).numpy() for x in category_images(
            "train" if stimuli == "morphs" else split, root)]
        if stimuli == "morphs":
            self._init_morphs(images, int(n_prototypes), tuple(float(v) for v in levels), prototype_seed)
        else:
            self.image_splits, self.report_condition = SPLITS, "sample_category"
            self.images = images
        if any(len(x) < 2 for x in self.images):
            raise DataError("each category needs at least two images")
        self.rewards = {"correct": 1.0, "fail": 0.0, **(rewards or {})}
        self.timing = {**TIMING, **(timing or {})}

    def _init_morphs(self, images, n_prototypes, levels, seed):
        if any(not 0.0 <= v <= 1.0 for v in levels) or 0.5 in levels:
            raise DataError(f"morph levels are cat fractions in [0, 1] other than 0.5; got {levels}")
        by_category = [[v for v in levels if (v > 0.5) == (c == 0)] for c in range(2)]
        if not all(by_category):
            raise DataError(f"morph levels {levels} must include both cat (> 0.5) and dog (< 0.5) levels")
        if n_prototypes < 1 or any(len(x) < n_prototypes for x in images):
            raise DataError(f"n_prototypes must be between 1 and {min(len(x) for x in images)}")
        rng = np.random.RandomState(seed)
        self.prototypes = [x[np.sort(rng.choice(len(x), n_prototypes, replace=False))] for x in images]
        self.image_splits, self.report_condition = (), "sample_level"
        self.morph_table = [morph_points(n_prototypes, by_category[c]) for c in range(2)]
        self.images = [np.stack([morph(self.prototypes[0][i], self.prototypes[1][j], v) for i, j, v in table])
                       for table in self.morph_table]

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
        if self.stimuli == "morphs":
            trial["sample_level"] = self.morph_table[sample_cat][trial["sample_image"]][2]
            trial["test_level"] = self.morph_table[test_cat][trial["test_image"]][2]

        self.delayed_match_trial(self.images[sample_cat][trial["sample_image"]],
                                 self.images[test_cat][trial["test_image"]], trial["match"])
        return trial


def build(dt=20, seed=0, timing=None, **kwargs) -> DelayedMatchToCategory:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(DelayedMatchToCategory, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
