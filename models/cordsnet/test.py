import pytest
import torch

import neurovision
from neurovision.dynamics import record
from neurovision.families.cordsnet.protocol import Protocol, evaluate

#: trained variant -> (data set, accuracy it must reach on 100 test images under the full protocol)
TRAINED = {"cordsnet-r2-cifar10": ("cifar10-subset", 0.35), "cordsnet-r2-fmnist": ("fashion-mnist", 0.7)}


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


@pytest.mark.parametrize("name", sorted(TRAINED))
def test_trained_variant_classifies_its_test_images(name, shared_data):
    from neurovision.data.datasets import load_dataset

    dataset, floor = TRAINED[name]
    model = neurovision.load_model(name)
    data = load_dataset(dataset, "test").per_class(10, seed=1)
    result = evaluate(model, data.images, data.labels, Protocol(), batch_size=100)
    assert result["acc"] >= floor
    assert model.spontaneous_info["converged"]
