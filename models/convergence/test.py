import pytest
import torch

import neurovision
from neurovision.analysis.convergence import perturbation_sequences


@pytest.mark.parametrize("name", ["recurrent-resnet", "recurrent-resnet-shared", "recurrent-resnet-icr",
                                  "recurrent-resnet-pcr"])
def test_resnets_build_and_run_perturbations(name):
    torch.manual_seed(0)
    model = neurovision.load_model(name, width=4, blocks=3, input_shape=(3, 16, 16)).eval()
    images = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert model(images).shape == (2, 10)
        for seq in perturbation_sequences(3, extra_steps=2)["drop"]:
            assert model.run(images, 1, seq).shape == (2, 10)
    shared = model.stages[0].blocks
    same = torch.equal(shared[0].conv1.weight, shared[1].conv1.weight)
    assert same == (name in ("recurrent-resnet-shared", "recurrent-resnet-pcr"))


@pytest.mark.parametrize("name", ["hgru-pathfinder", "convlstm-pathfinder"])
def test_pathfinder_models_build_at_full_scale(name):
    model = neurovision.load_model(name)
    assert model.cell.channels == 25 and model.cell.kernel == 15
    small = neurovision.load_model(name, channels=3, kernel=3, input_shape=(1, 16, 16), steps=2)
    assert small(torch.rand(2, 1, 16, 16)).shape == (2, 2)


def test_shipped_weights_load_and_classify_above_chance(shared_data):
    assert "hgru-pathfinder4-c-rbp" in neurovision.model_registry  # discovers the plugins
    from neurovision.data.datasets import load_dataset
    from neurovision_plugins.models.convergence.model import TRAINED, WEIGHTS

    assert all((WEIGHTS / file).is_file() for file in TRAINED.values())
    test = load_dataset("cifar10-subset", "test").per_class(20, seed=0)
    for name in TRAINED:
        model = neurovision.load_model(name)
        assert not model.training
        if name.startswith("recurrent-resnet"):
            with torch.no_grad():
                accuracy = float((model(test.images).argmax(-1) == test.labels).float().mean())
            assert accuracy > 0.25, (name, accuracy)  # trained to about 0.4 on 10 classes
