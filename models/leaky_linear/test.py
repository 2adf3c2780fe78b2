import neurovision


def test_registered_and_builds():
    model = neurovision.load_model("leaky-linear")
    assert model.areas == ("rate",)
    assert model.input_shape == (1, 8, 8)
