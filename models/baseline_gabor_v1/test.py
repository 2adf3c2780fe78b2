import torch

import neurovision


def test_registered_with_its_stated_geometry():
    model = neurovision.load_model("baseline-gabor-v1")
    assert model.areas == ("v1",) and model.input_shape == (1, 120, 120) and model.visual_degrees == 8.0
    assert model.frequencies == (0.5, 1.0, 2.0, 4.0) and len(model.orientations) == 8
    assert model.area_shape("v1") == (32, 5, 5) and model.region_areas["IT"] == "v1"
    features = model.features(torch.rand(2, 1, 120, 120))
    assert features.shape == (2, 32, 5, 5) and bool((features > 0).all())
