"""Models of brainscore-vision's registry scored by the time-resolved pipeline (offline).

A brainscore-vision plugin made in tmp registers (a) a torchvision SqueezeNet with random
weights through brainscore's own PytorchWrapper and ModelCommitment (static) and (b) a
time-resolved BrainModel (neurovision's adapter around leaky-linear).
"""
import importlib
import sys

import numpy as np
import pytest

import neurovision
from neurovision.brain.results import load_results
from neurovision.cli import main
from neurovision.errors import UnknownIdError

PLUGIN = '''import functools

import torchvision
from brainscore_vision import model_registry
from brainscore_vision.model_helpers.activations.pytorch import PytorchWrapper, load_preprocess_images
from brainscore_vision.model_helpers.brain_transformation import ModelCommitment


def squeezenet():
    net = torchvision.models.squeezenet1_1(weights=None).eval()
    preprocessing = functools.partial(load_preprocess_images, image_size=64)
    wrapper = PytorchWrapper(identifier="nv-test-squeezenet", model=net, preprocessing=preprocessing)
    return ModelCommitment("nv-test-squeezenet", wrapper, layers=["classifier"],
                           region_layer_map={"IT": "classifier"}, visual_degrees=8)


def leaky():
    from neurovision.brain.brainscore_model import NeurovisionBrainModel

    return NeurovisionBrainModel("leaky-linear", identifier="nv-test-leaky", region_areas={"IT": "rate"})


model_registry["nv-test-squeezenet"] = squeezenet
model_registry["nv-test-leaky"] = leaky
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    import torch

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("bsplugins")
    (root / "nv_test_brainscore_plugin").mkdir()
    (root / "nv_test_brainscore_plugin" / "__init__.py").write_text(PLUGIN)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("nv_test_brainscore_plugin")
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def benchmark_id(tmp_path_factory):
    """The local 10-ms IT benchmark of test_brainscore_benchmarks, registered as a plugin."""
    spec = importlib.util.spec_from_file_location("bench_local", __file__.replace("models.py", "benchmarks.py"))
    local = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(local)
    _, plugins = local._local(tmp_path_factory.mktemp("bench"), "bsmodels", local.TEMPORAL[:6], n_images=60)
    neurovision.add_plugin_folder(plugins)
    return "mylab.bsmodels"


def _score(tmp_path, model, benchmark_id, *extra):
    out = tmp_path / model.replace(":", "_")
    assert main(["score", model, benchmark_id, "--shift", "0", "--controls", "none", "--permutations", "0",
                 "--quiet", "--out", str(out), *extra]) == 0
    return load_results(out / "results.nc").squeeze("region"), (out / "table.txt").read_text()


def test_static_model_is_declared_static_and_its_features_are_brainscores(plugin, benchmark_id, tmp_path):
    model = neurovision.load_model("brainscore:nv-test-squeezenet")
    assert model.static and model.visual_degrees == 8
    benchmark = neurovision.load_benchmark(benchmark_id)
    source, index, attrs = model.record_source(None, benchmark, "IT", [0.0])
    assert source.shape == (60, 6, 1000) and attrs["time_course"] == "flat"
    np.testing.assert_array_equal(source[:, 0], source[:, 5])
    images, ids = benchmark.stimuli()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        stimuli = model._stimulus_set(images, ids, benchmark.visual_degrees, Path(folder))
        direct = model.brain_model.activations_model(stimuli, layers=["classifier"])
        direct = direct.sel(stimulus_id=ids) if "stimulus_id" in direct.dims else direct
        np.testing.assert_allclose(source[:, 0], direct.values, rtol=1e-6, atol=1e-6)
    result, table = _score(tmp_path, "brainscore:nv-test-squeezenet", benchmark_id)
    assert result.attrs["time_course"] == "flat" and "time course is flat" in table


def test_time_resolved_model_is_recorded_over_time_like_the_native_model(plugin, benchmark_id, tmp_path):
    model = neurovision.load_model("brainscore:nv-test-leaky")
    assert not model.static
    theirs, table = _score(tmp_path, "brainscore:nv-test-leaky", benchmark_id)
    native, _ = _score(tmp_path, "leaky-linear", benchmark_id, "--area", "rate")
    assert theirs.attrs["time_course"] == "recorded" and "flat" not in table
    difference = np.abs(theirs["score"].values - native["score"].values).max()
    print("max |brainscore:nv-test-leaky - leaky-linear| per bin:", difference)
    assert difference < 1e-6 and np.ptp(theirs["score"].values) > 0.01


def test_unknown_brainscore_id_lists_close_ones(plugin):
    with pytest.raises(UnknownIdError, match="nv-test-squeezenet"):
        neurovision.load_model("brainscore:nv-test-squeezenett")
