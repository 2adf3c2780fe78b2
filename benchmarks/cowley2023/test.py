"""cowley2023.V4: the shipped Cowley et al. 2023 files load, match their provenance and score."""
import hashlib
import importlib
from pathlib import Path

import numpy as np
import pytest

import neurovision
from neurovision.brain.scoring import ScoreConfig, score_model

SHA256 = {
    "responses_210325.npy": "4008dbbf31a47d9b1b8d8da609f4a7a3433c7071f0e45c611c220b217dd75b76",
    "images_210325.zip": "992774eca3508a2ad01accb1a31f5f3e3d90248c49f4eec314f2a915a263e454",
}


@pytest.fixture(scope="module")
def benchmark():
    return neurovision.load_benchmark("cowley2023.V4")


def test_shipped_files_are_the_originals_with_their_licence():
    neurovision.benchmark_registry.discover()
    plugin = importlib.import_module("neurovision_plugins.benchmarks.cowley2023.benchmark")
    folder = Path(plugin.DATA)
    for name, digest in SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert "GNU GENERAL PUBLIC LICENSE" in (folder / "LICENSE").read_text()
    assert "cowleygroup/V4_compact_models" in (folder / "PROVENANCE.md").read_text()


def test_recording_layout(benchmark):
    rec = benchmark.recording
    assert rec.sizes == {"presentation": 4840, "neuroid": 50, "time_bin": 1}  # 320,000 - 78,000 NaN slots / 50
    assert not np.isnan(rec.values).any()
    assert benchmark.time_bins == [(50.0, 150.0)]
    reps = rec.groupby("stimulus_id").count("presentation").isel(neuroid=0, time_bin=0).values
    assert reps.min() == 6 and reps.max() == 10
    responses = benchmark.responses()
    assert responses.sizes["presentation"] == 640
    raw = np.load(Path(importlib.import_module("neurovision_plugins.benchmarks.cowley2023.benchmark").DATA)
                  / "responses_210325.npy")
    np.testing.assert_allclose(responses.values[:, :, 0], np.nanmean(raw, axis=2).T)


def test_images_match_the_stimulus_ids(benchmark):
    images, ids = benchmark.stimuli()
    assert images.shape == (640, 3, 112, 112) and ids[0] == "image0001" and ids[-1] == "image0640"
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0


def test_ceiling_is_high_and_a_pixel_model_scores_above_its_image_shuffled_control(benchmark):
    result = score_model("leaky-linear", benchmark, area="rate", progress=False,
                         config=ScoreConfig(shift=0))
    ds = result.squeeze("region")
    assert 0.6 < float(ds["ceiling"]) < 0.95
    assert float(ds["score"]) > 0.1 and abs(float(ds["control_score"].sel(control="image"))) < 0.08
    assert float(ds["overall_p_value"].sel(control="image")) < 1e-4
    assert ds.attrs["controls_not_applicable"] == "temporal"  # one time bin: nothing to permute
    assert list(ds["control"].values) == ["image"]
