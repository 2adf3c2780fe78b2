import numpy as np
import pytest

import neurovision
from neurovision.backend.trials import draw_trials


def _cifar(shared_data, label):
    data = np.load(shared_data / "cifar10-subset" / "cifar10_subset.npz")
    return data["x_train"][data["y_train"] == label].transpose(0, 3, 1, 2) / 255.0


def _shown(trials, i, period):
    return trials.inputs[i, int(trials.info[f"{period}_start"][i]), 1:].reshape(3, 32, 32).numpy()


def test_photographs_are_cifar_cats_and_dogs_and_match_means_same_category(shared_data):
    env = neurovision.load_task("cat-dog-category", stimuli="photographs", seed=1, image_shape=(3, 32, 32))
    cats = _cifar(shared_data, 3)
    trials = draw_trials(env, 30)
    info = trials.info
    assert (info["match"] == (info["sample_category"] == info["test_category"])).all()
    for i in np.flatnonzero(info["sample_category"] == 0)[:5]:
        assert np.allclose(_shown(trials, i, "sample"), cats[info["sample_image"][i]], atol=1e-6)
    assert (info["sample_image"] != info["test_image"])[info["match"]].all()


def test_test_split_uses_other_photographs(shared_data):
    train = neurovision.load_task("cat-dog-category", stimuli="photographs", split="train", image_shape=(3, 32, 32))
    test = neurovision.load_task("cat-dog-category", stimuli="photographs", split="test", image_shape=(3, 32, 32))
    a, b = train.images[0].reshape(len(train.images[0]), -1), test.images[0].reshape(len(test.images[0]), -1)
    assert not (a[:50, None] == b[None, :50]).all(-1).any()
    with pytest.raises(Exception, match="split"):
        neurovision.load_task("cat-dog-category", stimuli="photographs", split="validation")


def test_morphs_cross_fade_cat_and_dog_prototypes_and_the_majority_sets_the_category(shared_data):
    env = neurovision.load_task("cat-dog-category", seed=3, image_shape=(3, 32, 32))
    cats, dogs = _cifar(shared_data, 3), _cifar(shared_data, 5)
    # 3 cat + 3 dog prototypes drawn from the CIFAR training photographs
    for prototypes, photos in zip(env.prototypes, (cats, dogs)):
        assert len(prototypes) == 3
        assert all(np.isclose(photos, p, atol=1e-6).all((1, 2, 3)).any() for p in prototypes)
    # 3 pure prototypes + 9 morph lines x 2 mixed levels per category
    assert [len(x) for x in env.images] == [21, 21]
    trials = draw_trials(env, 60)
    info = trials.info
    assert ((info["sample_level"] > 0.5) == (info["sample_category"] == 0)).all()
    assert ((info["test_level"] > 0.5) == (info["test_category"] == 0)).all()
    assert (info["match"] == (info["sample_category"] == info["test_category"])).all()
    assert set(info["sample_level"]) == {1.0, 0.8, 0.6, 0.4, 0.2, 0.0}
    for i in range(10):
        cat, dog, level = env.morph_table[info["sample_category"][i]][info["sample_image"][i]]
        expected = level * env.prototypes[0][cat] + (1 - level) * env.prototypes[1][dog]
        assert np.allclose(_shown(trials, i, "sample"), expected, atol=1e-6)
        assert not np.array_equal(_shown(trials, i, "sample"), _shown(trials, i, "test"))


def test_morph_levels_without_a_category_or_one_sided_are_rejected():
    with pytest.raises(Exception, match="0.5"):
        neurovision.load_task("cat-dog-category", levels=(1.0, 0.5, 0.0), image_shape=(3, 32, 32))
    with pytest.raises(Exception, match="dog"):
        neurovision.load_task("cat-dog-category", levels=(1.0, 0.8), image_shape=(3, 32, 32))
    with pytest.raises(Exception, match="photographs"):
        neurovision.load_task("cat-dog-category", stimuli="morph", image_shape=(3, 32, 32))
