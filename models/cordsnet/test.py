import pytest
import torch

import neurovision
from neurovision.dynamics import record
from neurovision.families.cordsnet.protocol import Protocol, evaluate

#: trained variant -> (data set, accuracy it must reach on 100 test images under the full protocol),
#: a few points under what the shipped weights reach there (cifar10 0.51, cifar10-linear 0.46)
TRAINED = {"cordsnet-r2-cifar10": ("cifar10-subset", 0.46), "cordsnet-r2-cifar10-linear": ("cifar10-subset", 0.42),
           "cordsnet-r2-fmnist": ("fashion-mnist", 0.7)}


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


def test_cifar10_model_is_relu_with_non_negative_spontaneous_rates():
    model = neurovision.load_model("cordsnet-r2-cifar10")
    assert (model.config.activation, float(model.prelu_slope)) == ("relu", 0.0)
    spont = model.spontaneous_state()
    assert model.spontaneous_info["converged"]
    assert min(float(r.min()) for r in spont.values()) >= 0
    assert max(float(r.max()) for r in spont.values()) > 0


def test_cifar10_linear_variant_is_the_linear_stage():
    model = neurovision.load_model("cordsnet-r2-cifar10-linear")
    assert (model.config.activation, model.config.prelu_slope) == ("prelu", 1.0)
    assert min(float(r.min()) for r in model.spontaneous_state().values()) < 0  # what a ReLU network cannot have


def test_cifar10_model_returns_to_its_spontaneous_state(shared_data):
    """200 ms of image, then 400 ms of blank: the distance from the spontaneous state falls below
    1e-3 of its peak in every area (measured: 6.5e-4 in area2, 4.9e-8 in area1)."""
    from neurovision.data.datasets import load_dataset
    from neurovision.families.cordsnet.experiments import present_remove, trajectory

    model = neurovision.load_model("cordsnet-r2-cifar10")
    images = load_dataset("cifar10-subset", "test").per_class(2, seed=1).images
    data = trajectory(model, images, present_remove(200.0, 400.0), areas=model.areas)
    for area in model.areas:
        distance = data[f"{area}_distance"]
        assert float(distance.max()) > 0.01  # the image moved the area
        assert float((distance.isel(time=-1) / distance.max("time")).max()) < 1e-3
