"""Analytic properties of the pixel and Gabor baselines: tuning, phase invariance, normalisation, time."""
import math

import numpy as np
import pytest
import torch

import neurovision
from neurovision.brain.presentation import GRAY, ModelRecorder, place_on_screen
from neurovision.data.images import prepare_images
from neurovision.dynamics import Schedule, record
from neurovision.errors import ShapeError, UnknownIdError
from neurovision.families.baselines import BASELINES, GaborV1, PixelBaseline
from neurovision.families.baselines.static import StaticNetworkModel, as_time_stepped


@pytest.fixture(scope="module")
def gabor():
    return GaborV1()


def grating(model, frequency_cpd, theta, contrast=1.0, phase=0.0):
    """Full-field luminance grating (1, 1, H, W) in [0, 1] on the model's input."""
    size = model.input_shape[-1]
    y, x = torch.meshgrid(*(torch.arange(size, dtype=torch.float64),) * 2, indexing="ij")
    k = 2 * math.pi * frequency_cpd / model.px_per_degree
    wave = torch.cos(k * (x * math.cos(theta) + y * math.sin(theta)) + phase)
    return (GRAY + GRAY * contrast * wave).float()[None, None]


def centre(model, energy, scale):
    """Channels of one scale (O,) at the centre pixel."""
    n = len(model.orientations)
    mid = model.input_shape[-1] // 2
    return energy[0, scale * n:(scale + 1) * n, mid, mid]


@pytest.mark.parametrize("scale", [0, 2, 3])
def test_grating_drives_its_orientation_channel_most_and_energy_equals_contrast(gabor, scale):
    f = gabor.frequencies[scale]
    for k, theta in enumerate(gabor.orientations):
        e = centre(gabor, gabor.energy(grating(gabor, f, theta, contrast=0.6)), scale)
        assert int(e.argmax()) == k
        assert float(e[k]) == pytest.approx(0.6, rel=0.02)  # calibrated gain: energy = contrast
        assert float(e[(k + len(e) // 2) % len(e)]) < 0.01  # orthogonal channel silent


def test_energy_is_phase_invariant_and_even_odd_are_not(gabor):
    mid = gabor.input_shape[-1] // 2
    a, b = (grating(gabor, 2.0, 0.4, phase=p) for p in (0.0, 1.3))
    ea, eb = gabor.energy(a)[..., 20:-20, 20:-20], gabor.energy(b)[..., 20:-20, 20:-20]
    assert float((ea - eb).abs().max()) < 0.01 * float(ea.max())
    # the linear (even) response itself changes with phase: energy is what removes it
    even = [gabor.quadrature(x, 2).real[0, :, mid, mid] for x in (a, b)]
    assert float((even[0] - even[1]).abs().max()) > 0.3


def test_normalisation_saturates_below_its_analytic_bound(gabor):
    scale, k = 2, 3
    f, theta = gabor.frequencies[scale], gabor.orientations[k]
    energy = centre(gabor, gabor.energy(grating(gabor, f, theta)), scale)
    bound = float(energy[k] / energy.mean())  # E_theta / mean over orientations: c -> infinity limit
    responses = []
    for c in (0.01, 0.1, 1.0, 10.0, 1000.0):
        r = centre(gabor, gabor.normalise(gabor.energy(grating(gabor, f, theta, contrast=c))), scale)
        responses.append(float(r[k]))
    assert all(b > a for a, b in zip(responses, responses[1:]))  # monotone in contrast
    assert max(responses) < bound and responses[-1] > 0.98 * bound  # bounded, reaches the bound
    assert responses[1] / responses[0] > 8 and responses[4] / responses[2] < 2  # linear, then saturating


def test_features_of_the_gray_screen_are_zero_and_pool_to_the_grid(gabor):
    assert gabor.area_shape("v1") == (32, 5, 5)
    assert float(gabor.blank.abs().max()) < 1e-6
    fields = gabor.receptive_fields()
    assert [round(f["sigma_deg"], 3) for f in fields] == [1.124, 0.562, 0.281, 0.141]
    assert fields[0]["fwhm_deg"] == pytest.approx(2.6476, abs=1e-3)


def _small_resnet():
    from neurovision.families.recurrent.recurrent_resnet import RecurrentResNet

    torch.manual_seed(0)
    return RecurrentResNet(width=4, blocks=2, stages=2)


@pytest.mark.parametrize("model", [PixelBaseline(), GaborV1(size=60, frequencies=(1.0, 2.0)),
                                   StaticNetworkModel(_small_resnet())])
def test_step_response_reaches_one_minus_one_over_e_at_tau(model):
    image = torch.rand(2, *model.input_shape)
    bins = [(t - model.dt, t) for t in np.arange(model.dt, 3 * model.tau + 1e-9, model.dt)]
    schedule = Schedule.presentation(40.0, 100.0, 0.0)
    activity = record(model, image, schedule, list(model.areas), bins, progress=False).values
    blank, target = model.blank.flatten().numpy(), model.features(image).flatten(1).numpy()
    fraction = (activity - blank[None, :, None]) / (target - blank[None])[..., None]
    moving = np.abs(target - blank[None]) > 0.05  # (image, feature) whose drive changes at onset
    assert moving.sum() > 10
    times = np.array([b[1] for b in bins])  # one step per bin, at its end
    np.testing.assert_allclose(fraction[moving], np.broadcast_to(1 - np.exp(-times / model.tau),
                                                                 (int(moving.sum()), len(bins))), atol=1e-5)
    at_tau = int(np.flatnonzero(np.isclose(times, model.tau))[0])
    np.testing.assert_allclose(fraction[moving][:, at_tau], 1 - math.exp(-1), atol=1e-5)


def test_pixels_see_the_image_placed_like_any_model():
    model = neurovision.load_model("baseline-pixels")
    assert model.input_shape == (1, 24, 24) and model.visual_degrees == 8.0
    assert model.region_areas["V4"] == "pixels" and model.area_shape("pixels") == (1, 24, 24)
    images = torch.rand(3, 3, 112, 112)
    expected = prepare_images(place_on_screen(images, 11.2, 8.0), (1, 24, 24))
    got = ModelRecorder(model, progress=False).prepare(images, 11.2)
    assert torch.equal(got, expected)
    assert torch.allclose(model.features(got), expected)
    assert float(model.blank.unique()) == pytest.approx(GRAY)


def test_bad_input():
    with pytest.raises(UnknownIdError, match="baseline-pixels"):
        neurovision.load_model("baseline-pixel")
    with pytest.raises(ShapeError, match=r"expects \(1, 24, 24\)"):
        PixelBaseline().encode(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="Nyquist"):
        GaborV1(size=40, frequencies=(4.0,))
    assert set(BASELINES) <= set(neurovision.model_registry)


def test_feed_forward_networks_get_the_baselines_time_course_and_stepped_ones_stay():
    net = _small_resnet().eval()
    images = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        features = net.features(images)
        torch.testing.assert_close(net(images), net.head[2:](features))  # what the classifier pools
    assert (features >= 0).all() and features.shape == (3, 8, 16, 16)
    stepped = as_time_stepped(net)
    assert isinstance(stepped, StaticNetworkModel) and stepped.area_shape("features") == tuple(features.shape[1:])
    assert stepped.region_areas["V4"] == "features" and stepped.visual_degrees == 8.0
    torch.testing.assert_close(stepped.encode(images), features)
    dcn = neurovision.load_model("dcn-ode")  # sampled in time already, though it has features too
    assert as_time_stepped(dcn) is dcn and callable(dcn.features)
    baseline = PixelBaseline()
    assert as_time_stepped(baseline) is baseline
