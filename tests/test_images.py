"""Image conversion: layouts, channel conversion, resizing, NaN and empty sets."""
import numpy as np
import pytest
import torch

from neurovision.data.images import prepare_images, to_tensor
from neurovision.errors import DataError, ShapeError


def test_layouts_and_scaling():
    hwc = (np.arange(2 * 4 * 5 * 3) % 256).astype(np.uint8).reshape(2, 4, 5, 3)
    x = to_tensor(hwc)
    assert x.shape == (2, 3, 4, 5) and x.max() <= 1.0
    assert x[1, 2, 3, 4] == pytest.approx(hwc[1, 3, 4, 2] / 255)
    assert to_tensor(np.zeros((3, 7, 7), np.uint8)).shape == (3, 1, 7, 7)
    with pytest.raises(ShapeError, match="must have shape"):
        to_tensor(np.zeros((7, 7)))


def test_channel_conversion_and_resize():
    gray = torch.rand(2, 1, 28, 28)
    rgb = prepare_images(gray, (3, 28, 28))
    assert rgb.shape == (2, 3, 28, 28) and torch.equal(rgb[:, 0], rgb[:, 2])
    back = prepare_images(rgb, (1, 28, 28))
    assert torch.allclose(back, gray)
    assert prepare_images(torch.rand(2, 4, 8, 8), (3, 8, 8)).shape == (2, 3, 8, 8)
    constant = torch.full((1, 3, 112, 112), 0.25)
    assert torch.allclose(prepare_images(constant, (3, 32, 32)), torch.full((1, 3, 32, 32), 0.25))
    with pytest.raises(ShapeError, match=r"expects \(32, 32\) px"):
        prepare_images(torch.rand(1, 3, 28, 28), (3, 32, 32), resize=False)
    with pytest.raises(ShapeError, match="2 channels"):
        prepare_images(torch.rand(1, 2, 8, 8), (3, 8, 8))


def test_nan_and_empty():
    x = torch.rand(3, 1, 4, 4)
    x[2, 0, 1, 1] = float("inf")
    with pytest.raises(DataError, match=r"images \[2\]"):
        prepare_images(x, (1, 4, 4))
    with pytest.raises(DataError, match="empty"):
        prepare_images(torch.zeros(0, 1, 4, 4), (1, 4, 4))
