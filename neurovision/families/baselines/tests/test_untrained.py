"""Untrained controls: the trained model's architecture and configuration, seeded random weights."""
import dataclasses

import pytest
import torch

import neurovision
from neurovision.errors import NeurovisionError, UnknownIdError
from neurovision.families.baselines import UntrainedControl, untrained_controls


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_trained_cordsnet_gets_the_untrained_architecture_with_its_configuration():
    trained = neurovision.load_model("cordsnet-r2-cifar10")
    controls = untrained_controls("cordsnet-r2-cifar10")
    assert [c.seed for c in controls] == [0, 1, 2]
    assert {c.architecture for c in controls} == {"cordsnet-r2"}
    assert controls[1].identifier == "cordsnet-r2-cifar10.untrained-seed1"
    models = [c() for c in controls]
    for model in models:
        assert model.config == trained.config  # image size 32, CIFAR-10 normalisation, activation ...
        assert model.input_shape == (3, 32, 32)
    built = [weights(m) for m in models]
    assert not any(same(built[i], built[j]) for i in range(3) for j in range(i + 1, 3))
    assert not same(built[0], weights(trained))
    assert same(built[2], weights(controls[2]()))  # deterministic per seed


def test_building_a_control_leaves_the_callers_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    UntrainedControl("cordsnet-r2", "cordsnet-r2", 5, {"image_size": 32})()
    assert torch.equal(torch.rand(3), expected)


def test_random_weight_architectures_are_their_own_counterpart():
    controls = untrained_controls("cordsnet-r4", n_seeds=2)
    assert [(c.architecture, c.overrides["image_size"]) for c in controls] == [("cordsnet-r4", 224)] * 2
    first, second = (c() for c in untrained_controls("dcn-ode", n_seeds=2))
    assert not same(weights(first), weights(second))


def test_models_without_an_untrained_counterpart_say_so():
    for model_id in ("baseline-pixels", "hgru-pathfinder4-bptt"):
        with pytest.raises(NeurovisionError, match="no known untrained counterpart"):
            untrained_controls(model_id)
    with pytest.raises(UnknownIdError, match="cordsnet-r2-cifar10"):
        untrained_controls("cordsnet-r2-cifar")
    with pytest.raises(ValueError, match="n_seeds"):
        untrained_controls("cordsnet-r2", n_seeds=0)


def test_overrides_are_the_whole_configuration_but_depth():
    control = untrained_controls("cordsnet-r2-fmnist", n_seeds=1)[0]
    fields = {f.name for f in dataclasses.fields(neurovision.load_model("cordsnet-r2-fmnist").config)}
    assert set(control.overrides) == fields - {"depth"} and control.overrides["in_channels"] == 1


@pytest.mark.parametrize("model_id", ["dcn-ode-cifar10", "recurrent-resnet-cifar-w8-icr", "hgru-pathfinder4-bptt"])
def test_checkpoints_get_their_architecture_and_solver_with_seeded_random_weights(model_id):
    from neurovision.families.baselines.checkpoint_controls import untrained_for

    trained = neurovision.load_model(model_id)
    first, again, second = untrained_for(model_id, 2)[0](), untrained_for(model_id, 1)[0](), untrained_for(model_id, 2)[1]()
    assert type(first) is type(trained) and weights(first).keys() == weights(trained).keys()
    assert all(weights(first)[k].shape == v.shape for k, v in weights(trained).items())
    assert same(weights(first), weights(again)) and not same(weights(first), weights(second))
    assert not same(weights(first), weights(trained))
    if model_id.startswith("dcn"):  # built with the solver it was trained with
        solvers = {(b.method, b.steps) for b in (first, trained) for b in b.modules() if hasattr(b, "method")}
        assert solvers == {("rk4", 1)}
