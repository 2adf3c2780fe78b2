"""Stimulus generators produce the labels they claim (flood fill, template matching)."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from neurovision.data.digitclutter import digitclutter, glyph, topk_error
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
        pathfinder(1, length=20, size=12)
    with pytest.raises(DataError):
        pathfinder(0)


def test_digitclutter_labels_match_the_painted_digits():
    data = digitclutter(40, n_digits=3, seed=3)
    assert data.images.shape == (40, 3, 32, 32)
    assert data.labels.sum(1).eq(3).all()  # three distinct digits each
    for i in range(len(data)):
        image = data.images[i].numpy()
        for k in range(3):
            digit, colour = int(data.digits[i, k]), data.colours[i, k].numpy()
            (r, c), h = data.corners[i, k].tolist(), int(data.heights[i, k])
            same = np.all(image == colour[:, None, None], axis=0)
            masks = {d: _placed(glyph(d, h), r, c) for d in range(10)}
            # every pixel of this colour lies inside the labelled glyph, and enough of it shows
            assert not (same & ~masks[digit]).any()
            assert (same & masks[digit]).sum() >= 0.25 * masks[digit].sum()
            if k == 2:  # front digit: flood fill of its colour recovers exactly its glyph,
                pieces, _ = ndimage.label(same, SQUARE)  # which matches no other digit as well
                filled = np.isin(pieces, np.unique(pieces[masks[digit]]))
                assert np.array_equal(filled, masks[digit])
                ious = {d: (filled & m).sum() / (filled | m).sum() for d, m in masks.items()}
                assert max(ious, key=ious.get) == digit


def _placed(mask, r, c, size=32):
    out = np.zeros((size, size), dtype=bool)
    h, w = min(mask.shape[0], size - r), min(mask.shape[1], size - c)
    out[r: r + h, c: c + w] = mask[:h, :w]
    return out


def test_digitclutter_chance_error_and_topk_error():
    digits = torch.tensor([[1, 2, 3], [4, 5, 6]])
    logits = torch.zeros(2, 10)
    logits[0, [1, 2, 3]] = 1.0  # all three found
    logits[1, [4, 7, 8]] = 1.0  # one of three found
    assert topk_error(logits, digits).tolist() == pytest.approx([0.0, 2 / 3])
    data = digitclutter(300, n_digits=3, seed=0)
    random_logits = torch.randn(300, 10, generator=torch.Generator().manual_seed(0))
    assert float(topk_error(random_logits, data.digits).mean()) == pytest.approx(0.7, abs=0.05)


def test_digitclutter_is_seeded():
    a, b = digitclutter(5, seed=1), digitclutter(5, seed=1)
    assert torch.equal(a.images, b.images) and torch.equal(a.digits, b.digits)
    with pytest.raises(DataError):
        digitclutter(2, heights=(40,))
