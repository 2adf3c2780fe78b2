"""Stimulus generators produce the labels they claim (flood fill, template matching)."""
import numpy as np
import pytest
from scipy import ndimage

from neurovision.data.pathfinder import pathfinder
from neurovision.errors import DataError

CROSS = ndimage.generate_binary_structure(2, 1)
SQUARE = ndimage.generate_binary_structure(2, 2)


def connected_by_flood_fill(image: np.ndarray, dots: np.ndarray) -> bool:
    """Close the dash gaps (1-px dilation) and flood-fill from one dot: is the other reached?"""
    ink = ndimage.binary_dilation(image > 0, CROSS)
    components, _ = ndimage.label(ink, SQUARE)
    a, b = (components[int(round(r)), int(round(c))] for r, c in dots)
    assert a > 0 and b > 0, "dot centres must be inked"
    return a == b


@pytest.mark.parametrize("length,size", [(6, None), (9, 48)])
def test_pathfinder_labels_match_flood_fill(length, size):
    data = pathfinder(60, length=length, size=size, seed=length)
    flood = [connected_by_flood_fill(img[0].numpy(), d.numpy()) for img, d in zip(data.images, data.dots)]
    assert np.array_equal(np.array(flood, dtype=int), data.labels.numpy())
    assert 0.4 <= data.labels.float().mean() <= 0.6


def test_pathfinder_contours_are_dashed_not_solid():
    data = pathfinder(10, seed=1)
    for img in data.images:
        pieces = ndimage.label(img[0].numpy() > 0.5, SQUARE)[1]
        # solid contours would give 2 pieces + 4 distractors; 12 visible dashes give many more
        assert pieces >= 10


def test_pathfinder_is_seeded_and_in_range():
    a, b = pathfinder(8, seed=5), pathfinder(8, seed=5)
    assert np.array_equal(a.images.numpy(), b.images.numpy())
    assert not np.array_equal(a.images.numpy(), pathfinder(8, seed=6).images.numpy())
    assert a.images.shape == (8, 1, 40, 40)
    assert float(a.images.min()) >= 0 and float(a.images.max()) <= 1


def test_pathfinder_rejects_impossible_requests():
    with pytest.raises(DataError, match="larger images"):
        pathfinder(2, length=20, size=24)
    with pytest.raises(DataError):
        pathfinder(0)
