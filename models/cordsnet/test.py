import pytest
import torch

import neurovision
from neurovision.dynamics import record


@pytest.mark.parametrize("depth", [2, 4, 6, 8])
def test_registered_variants_build(depth):
    model = neurovision.load_model(f"cordsnet-r{depth}", image_size=32)
    assert model.areas == tuple(f"area{j + 1}" for j in range(depth))
    assert model.input_shape == (3, 32, 32)
    assert model.dt == 2.0 and model.tau == 10.0


def test_untrained_variant_records():
    model = neurovision.load_model("cordsnet-r2", image_size=32)
    activity = record(model, torch.rand(2, 3, 32, 32), "blank:10,image:20", areas="area2",
                      time_bins="0:20:10", progress=False)
    assert activity.shape == (2, 64 * 8 * 8, 2)


def test_released_variant_needs_a_path(monkeypatch):
    monkeypatch.delenv("NEUROVISION_CORDSNET_R8", raising=False)
    with pytest.raises(FileNotFoundError, match="path="):
        neurovision.load_model("cordsnet-r8-imagenet")
