import numpy as np
import pytest

import neurovision
from neurovision.backend.trials import draw_trials


def test_images_are_cifar_cats_and_dogs_and_match_means_same_category(shared_data):
    env = neurovision.load_task("cat-dog-category", seed=1, image_shape=(3, 32, 32))
    data = np.load(shared_data / "cifar10-subset" / "cifar10_subset.npz")
    cats = data["x_train"][data["y_train"] == 3].transpose(0, 3, 1, 2) / 255.0
    trials = draw_trials(env, 30)
    info = trials.info
    assert (info["match"] == (info["sample_category"] == info["test_category"])).all()
    for i in np.flatnonzero(info["sample_category"] == 0)[:5]:
        shown = trials.inputs[i, int(info["sample_start"][i]), 1:].reshape(3, 32, 32).numpy()
        assert np.allclose(shown, cats[info["sample_image"][i]], atol=1e-6)
    assert (info["sample_image"] != info["test_image"])[info["match"]].all()


def test_test_split_uses_other_photographs(shared_data):
    train = neurovision.load_task("cat-dog-category", split="train", image_shape=(3, 32, 32))
    test = neurovision.load_task("cat-dog-category", split="test", image_shape=(3, 32, 32))
    a, b = train.images[0].reshape(len(train.images[0]), -1), test.images[0].reshape(len(test.images[0]), -1)
    assert not (a[:50, None] == b[None, :50]).all(-1).any()
    with pytest.raises(Exception, match="split"):
        neurovision.load_task("cat-dog-category", split="validation")
