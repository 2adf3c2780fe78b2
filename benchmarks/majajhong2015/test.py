"""MajajHong2015 temporal benchmarks, run on a local NetCDF assembly with MajajHong2015's coordinates."""
import importlib

import numpy as np
import pytest
import torch
from PIL import Image

import neurovision
from neurovision.brain.scoring import ScoreConfig, score_model
from neurovision.brain.synthetic import TwoTimescaleModel
from neurovision.errors import DataError


def _plugin():
    neurovision.benchmark_registry.discover()
    return importlib.import_module("neurovision_plugins.benchmarks.majajhong2015.benchmark")


def _write_local(tmp_path, n_images=80, repetitions=3):
    """A small assembly with MajajHong2015's coordinate names, written as brainio writes NetCDF."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuronRecordingAssembly

    rng = np.random.default_rng(0)
    model = TwoTimescaleModel(input_shape=(1, 8, 8), units=16)
    images = rng.integers(0, 255, (n_images, 8, 8), dtype=np.uint8)
    ids = np.array([f"{h:040x}" for h in rng.integers(0, 2**62, n_images)])
    folder = tmp_path / "images"
    folder.mkdir()
    for stimulus, image in zip(ids, images):
        Image.fromarray(image).save(folder / f"{stimulus}.png")
    x = torch.as_tensor(images, dtype=torch.float32)[:, None] / 255
    bins = [(t, t + 10) for t in range(0, 200, 10)]
    recorder = neurovision.brain.presentation.ModelRecorder(model, reducer=None, progress=False)
    activity = recorder.record(x, list(ids), "out", [(a - 60, b - 60) for a, b in bins]).values
    neurons = {"V4": 12, "IT": 16}
    weights = rng.normal(size=(activity.shape[1], sum(neurons.values())))
    signal = np.einsum("pft,fn->pnt", activity, weights)
    trials = signal[None] + 0.3 * signal.std() * rng.normal(size=(repetitions,) + signal.shape)
    region = np.repeat(list(neurons), list(neurons.values()))
    objects = np.array([f"object{i % 8}" for i in range(n_images)])
    assembly = NeuronRecordingAssembly(trials.reshape(-1, len(region), len(bins)), dims=["presentation", "neuroid", "time_bin"], coords={
        "stimulus_id": ("presentation", np.tile(ids, repetitions)),
        "repetition": ("presentation", np.repeat(np.arange(repetitions), n_images)),
        "object_name": ("presentation", np.tile(objects, repetitions)),
        "category_name": ("presentation", np.tile(np.char.add("cat", objects), repetitions)),
        "variation": ("presentation", np.tile(rng.integers(0, 3, n_images), repetitions)),
        "neuroid_id": ("neuroid", [f"Chabo_L_M_{i}" for i in range(len(region))]),
        "region": ("neuroid", region), "animal": ("neuroid", ["Chabo"] * len(region)),
        "arr": ("neuroid", ["M"] * len(region)),
        "time_bin_start": ("time_bin", [b[0] for b in bins]), "time_bin_end": ("time_bin", [b[1] for b in bins])})
    path = tmp_path / "MajajHong2015.temporal.public.nc"
    assembly.reset_index(["presentation", "neuroid", "time_bin"]).to_netcdf(path)
    return path, folder, model


def test_registered():
    ids = neurovision.benchmark_registry.ids()
    assert "majajhong2015.V4-temporal" in ids and "majajhong2015.IT-temporal" in ids


def test_local_assembly_scores_over_time(tmp_path):
    path, folder, model = _write_local(tmp_path)
    benchmark = _plugin().from_local(path, folder, "IT")
    assert benchmark.identifier == "majajhong2015.IT-temporal"
    assert benchmark.recording.sizes == {"presentation": 240, "neuroid": 16, "time_bin": 20}
    assert benchmark.responses().sizes["presentation"] == 80 and benchmark.stratify == "object_name"
    result = score_model(model, benchmark, area="out", progress=False,
                         config=ScoreConfig(shifts="40:80:20", controls=("temporal",), n_permutations=99))
    ds = result.squeeze("region")
    assert ds.attrs["shift_ms"] == 60
    late = ds["time_bin_start"].values >= 80
    assert np.all(ds["score"].values[late] > 0.5) and np.all(ds["ceiling"].values[late] > 0.5)
    assert ds.attrs["time_specificity_p_value"] <= 0.01


def test_region_and_time_bins_errors(tmp_path):
    path, folder, _ = _write_local(tmp_path, n_images=16)
    plugin = _plugin()
    with pytest.raises(DataError, match="no neuroids of region .V1."):
        plugin.from_local(path, folder, "V1")
    benchmark = plugin.from_local(path, folder, "V4")
    assert benchmark.with_time_bins("70:170:50").time_bins == [(70.0, 120.0), (120.0, 170.0)]
    with pytest.raises(neurovision.errors.ScheduleError, match="not tiled"):
        benchmark.with_time_bins("150:250:50")


def test_brainscore_download_failure_says_what_to_do(monkeypatch):
    import brainscore_vision.benchmarks.majajhong2015.benchmark as theirs

    def offline(**kwargs):
        raise ConnectionError("Could not connect to the endpoint URL")

    monkeypatch.setattr(theirs, "load_assembly", offline)
    with pytest.raises(DataError, match="internet"):
        neurovision.load_benchmark("majajhong2015.IT-temporal")
