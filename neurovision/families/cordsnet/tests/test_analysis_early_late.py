"""Fig. 4B measurements on CordsNets with planted recurrent kernels."""
import numpy as np
import pytest
import torch

from neurovision.families.cordsnet.early_late import image_response, measure
from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig
from neurovision.families.cordsnet.protocol import Protocol, present


def _linear_cordsnet(rotation: float) -> CordsNet:
    """A linear CordsNet-R2 whose recurrent kernels rotate channel pairs at the centre tap
    (eigenvalues exactly +-i*rotation), or vanish (rotation 0)."""
    torch.manual_seed(0)
    model = CordsNet(CordsNetConfig(depth=2, image_size=16, n_classes=4), activation="prelu", prelu_slope=1.0)
    with torch.no_grad():
        for conv in model.rec:
            v = conv.parametrizations.weight.original1
            kernel = torch.zeros_like(v)
            for i in range(0, v.shape[0], 2):
                kernel[i, i + 1, 1, 1], kernel[i + 1, i, 1, 1] = -rotation, rotation
            if rotation:
                v.copy_(kernel)
                conv.parametrizations.weight.original0.copy_(kernel.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
            else:
                conv.parametrizations.weight.original0.zero_()
    return model.eval()


def test_planted_rotation_overshoots_and_shows_imaginary_eigenvalues():
    images, labels = torch.rand(6, 3, 16, 16), torch.arange(6) % 4
    still, rotating = (measure(_linear_cordsnet(w), images, labels, image_steps=60) for w in (0.0, 1.5))
    for area in ("area1", "area2"):
        assert still["areas"][area]["max_abs_imag"] == 0.0 and still["areas"][area]["complex_fraction"] == 0.0
        assert still["areas"][area]["overshoot_mean"] < 1e-6  # first-order filters never overshoot
        assert rotating["areas"][area]["max_abs_imag"] == pytest.approx(1.5, abs=1e-5)
        assert rotating["areas"][area]["complex_fraction"] == 1.0
        assert rotating["areas"][area]["overshoot_mean"] > 0.05
    assert rotating["areas"]["area1"]["spectral_radius"] == pytest.approx(1.5, abs=1e-5)
    assert len(still["accuracy_by_step"]) == 60


def test_image_response_matches_the_training_protocol():
    model = _linear_cordsnet(1.0)
    images = torch.rand(3, 3, 16, 16)
    logits, states = image_response(model, images, image_steps=40)
    with torch.no_grad():
        reference, final, _ = present(model, images, Protocol(image_steps=40, ce_steps=40), from_rest=False)
    np.testing.assert_allclose(logits.numpy(), torch.stack(reference).numpy(), atol=1e-6)
    np.testing.assert_allclose(states["area2"][-1].numpy(), final["area2"].flatten(1).numpy(), atol=1e-6)


def test_cli_rejects_a_malformed_early_protocol(tmp_path, capsys):
    from neurovision.cli.main import main

    assert main(["analyze", "early-late", "--early", "20", "--out", str(tmp_path)]) != 0
    assert "IMAGE,CE" in capsys.readouterr().err
