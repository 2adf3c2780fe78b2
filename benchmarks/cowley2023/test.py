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
    assert images.shape == (640, 112, 112, 3) and images.dtype == np.uint8
    assert ids[0] == "image0001" and ids[-1] == "image0640" and images.max() > 200


def test_ceiling_is_high_and_a_pixel_model_scores_above_its_image_shuffled_control(benchmark):
    result = score_model("leaky-linear", benchmark, area="rate", progress=False,
                         config=ScoreConfig(shift=0, regression="ridge", n_permutations=19))
    ds = result.squeeze("region")
    assert 0.6 < float(ds["ceiling"]) < 0.95
    assert float(ds["score"]) > 0.1 and abs(float(ds["null_mean"])) < 0.08
    assert ds.attrs["permutation_p_value"] == 0.05  # above all 19 image-shuffled draws
    assert ds.attrs["controls_not_applicable"] == "temporal"  # one time bin: nothing to permute
    assert "null_score" in ds and "pairing_score" not in ds  # the image null ran, the temporal one could not


def _session(folder, name, neurons, images, average=False, subfolder="", drop=None):
    """A session in the release's layout cut from the shipped one (images renumbered from 1)."""
    import zipfile

    plugin = importlib.import_module("neurovision_plugins.benchmarks.cowley2023.benchmark")
    raw = np.load(Path(plugin.DATA) / "responses_210325.npy")[neurons][:, images]
    np.save(folder / f"responses_{name}.npy", np.nanmean(raw, axis=2) if average else raw)
    with zipfile.ZipFile(Path(plugin.DATA) / "images_210325.zip") as source, \
            zipfile.ZipFile(folder / f"images_{name}.zip", "w") as target:
        for new, old in enumerate(images):
            if new != drop:
                target.writestr(f"{subfolder}image{new + 1:04d}.jpg", source.read(f"image{old + 1:04d}.jpg"))
    return raw


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    neurovision.benchmark_registry.discover()
    folder = tmp_path_factory.mktemp("cowley")
    raw = _session(folder, "s1", slice(0, 30), np.arange(0, 200), subfolder="stimuli/")
    _session(folder, "s2", slice(30, 50), np.arange(200, 400), average=True)
    return folder, raw


def test_any_session_in_the_release_layout(sessions):
    folder, raw = sessions
    benchmark = neurovision.load_benchmark("cowley2023.V4", folder=folder, session="s1")
    assert benchmark.identifier == "cowley2023.V4.s1" and benchmark.has_repetitions
    np.testing.assert_allclose(benchmark.responses().values[:, :, 0], np.nanmean(raw, axis=2).T)
    images, ids = benchmark.stimuli()
    assert images.shape == (200, 112, 112, 3) and ids[:2] == ["image0001", "image0002"]
    single = neurovision.load_benchmark("cowley2023.V4", folder=folder, session="s2")
    assert not single.has_repetitions and single.responses().sizes == {"presentation": 200, "neuroid": 20, "time_bin": 1}


@pytest.mark.shared_data
def test_shared_release_folder_reads_as_the_shipped_session():
    from neurovision.data.paths import data_root

    folder = data_root() / "cowley-v4" if data_root() else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared data folder with cowley-v4 not found")
    shared = neurovision.load_benchmark("cowley2023.V4", folder=folder, session="210325")
    shipped = neurovision.load_benchmark("cowley2023.V4")
    np.testing.assert_array_equal(shared.recording.values, shipped.recording.values)


def test_single_repeat_has_no_ceiling_and_the_table_says_so(sessions):
    from neurovision.brain.annotations import notes

    benchmark = neurovision.load_benchmark("cowley2023.V4", folder=sessions[0], session="s2")
    ds = score_model("leaky-linear", benchmark, area="rate", progress=False, config=ScoreConfig(shift=0, controls=()))
    assert np.isnan(ds["ceiling"].values).all() and float(ds["score"].mean()) > 0.05
    assert any("no ceiling" in line and "raw Pearson r" in line for line in notes(ds))


def test_sessions_scored_separately_and_averaged_as_cowley2026(sessions):
    from neurovision.brain.sessions import CombinedBenchmark, format_sessions, score_sessions

    folder, _ = sessions
    config = ScoreConfig(shift=0, controls=())
    combined = neurovision.load_benchmark("cowley2023.V4", folder=folder, session=["s1", "s2"])
    assert isinstance(combined, CombinedBenchmark) and len(combined.parts) == 2
    result = score_sessions("leaky-linear", combined, "rate", config, progress=False)
    alone = [score_model("leaky-linear", neurovision.load_benchmark("cowley2023.V4", folder=folder, session=s),
                         area="rate", config=config, progress=False).attrs["overall_score"] for s in ("s1", "s2")]
    np.testing.assert_allclose(result["session_overall_score"].values, alone, atol=1e-12)
    assert result.attrs["overall_score"] == pytest.approx(np.mean(alone), abs=1e-12)
    assert np.isnan(result.attrs["overall_normalized_score"])  # s2 has no ceiling
    assert "mean over sessions" in format_sessions(result)


def test_bad_sessions_name_the_file_or_stimulus(sessions, tmp_path):
    from neurovision.errors import DataError

    folder, _ = sessions
    with pytest.raises(DataError, match="expected file responses_s9.npy.*sessions here: .*s1"):
        neurovision.load_benchmark("cowley2023.V4", folder=folder, session="s9")
    _session(tmp_path, "gap", slice(0, 5), np.arange(0, 20), drop=4)
    with pytest.raises(DataError, match="stimulus 'image0005' \\(response index 4\\) has no image"):
        neurovision.load_benchmark("cowley2023.V4", folder=tmp_path, session="gap")
    _session(tmp_path, "more", slice(0, 5), np.arange(0, 20))
    np.save(tmp_path / "responses_more.npy", np.load(tmp_path / "responses_more.npy")[:, :19])
    with pytest.raises(DataError, match="19 images but images_more.zip has 20; image 'image0020' has no responses"):
        neurovision.load_benchmark("cowley2023.V4", folder=tmp_path, session="more")
