"""Experiments API: present / remove / switch images, noise robustness, dynamical regimes."""
import numpy as np
import pytest
import torch

from neurovision.families.cordsnet.network import CordsNet
from neurovision.families.cordsnet.experiments import noise_robustness, present_remove, switch, trajectory


def stable_model(**kw):
    torch.manual_seed(0)
    model = CordsNet(depth=2, image_size=16, n_classes=5, rec_gain=0.5, **kw)
    with torch.no_grad():
        for bias in model.bias:
            bias.normal_(0.0, 0.3)
        model.fc.bias.zero_()
    return model


def test_activity_returns_to_spontaneous_after_removal():
    model = stable_model()
    data = trajectory(model, torch.rand(3, 3, 16, 16), present_remove(100, 200, before_ms=20), areas=["area2"])
    spont = float(model.spontaneous_state()["area2"].mean())
    assert data.time.values[0] == -18.0 and data.time.values[-1] == 300.0
    on, off = data.area2_distance.sel(time=100.0).values, data.area2_distance.sel(time=300.0).values
    assert np.all(on > 1e-3) and np.all(off < 1e-3 * on)
    np.testing.assert_allclose(data.area2_mean.sel(time=300.0).values, spont, rtol=1e-4)
    np.testing.assert_allclose(data.probability.sum("class").values, 1.0, rtol=1e-5)


def test_switched_image_is_read_out_as_if_shown_alone():
    model = stable_model()
    first, second = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    switched = trajectory(model, {"first": first, "second": second}, switch(100, 200))
    alone = trajectory(model, second, present_remove(200, 2, before_ms=0))
    np.testing.assert_allclose(switched.probability.isel(time=-1).values,
                               alone.probability.sel(time=200.0).values, rtol=1e-3, atol=1e-5)
    labels = torch.tensor(switched.predicted.isel(time=-1).values)
    marked = trajectory(model, {"first": first, "second": second}, switch(100, 200), labels=labels)
    assert bool(marked.correct.isel(time=-1).all())


def test_noise_deviation_grows_with_level_and_vanishes_without_noise():
    model = stable_model(activation="prelu", prelu_slope=1.0)
    images, labels = torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3])
    table = noise_robustness(model, images, labels, levels=(0.0, 0.05, 0.1), image_ms=40, batch_size=2)
    state = table[table["where"] == "state"].set_index("level")
    assert state.loc[0.0, "deviation"] == 0.0
    assert state.loc[0.0, "accuracy"] == state.loc[0.0, "clean_accuracy"]
    # linear dynamics: the deviation is proportional to the noise variance
    assert state.loc[0.1, "deviation"] / state.loc[0.05, "deviation"] == pytest.approx(4.0, rel=0.1)
    inputs = table[table["where"] == "input"].set_index("level")
    assert 0 == inputs.loc[0.0, "deviation"] < inputs.loc[0.05, "deviation"] < inputs.loc[0.1, "deviation"]
    with pytest.raises(ValueError, match="input"):
        noise_robustness(model, images, labels, levels=(0.1,), where=("pixels",))


def test_initialisation_variance_sets_the_regime():
    def autonomous(gain):
        model = CordsNet(depth=2, image_size=16, activation="tanh", rec_gain=gain, spontaneous_max_steps=400)
        with torch.no_grad():
            model.bias[0].normal_(0.0, 0.5, generator=torch.Generator().manual_seed(1))
        return model

    stable = autonomous(0.5)
    stable.spontaneous_state()
    assert stable.spontaneous_info["converged"]
    with pytest.warns(RuntimeWarning, match="did not settle"):
        autonomous(3.0).spontaneous_state()
