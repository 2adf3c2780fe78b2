"""The per-benchmark activity cache: computed once, keyed by everything that matters, never silently wrong."""
import numpy as np
import pytest
import torch

from neurovision.brain import activity_cache
from neurovision.brain.activity_cache import cache_folder, cached_recorder, cached_source
from neurovision.brain.decoding import DecodingBenchmark
from neurovision.brain.scoring import ScoreConfig, score_model
from neurovision.brain.synthetic import planted_benchmark
from neurovision.errors import DataError
from neurovision.families.baselines import PixelBaseline, image_benchmark, score_control


@pytest.fixture(scope="module")
def benchmark():
    model = PixelBaseline(grid=6, visual_degrees=8.0)
    images = torch.rand(40, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    return planted_benchmark(model, "pixels", images, 20.0, [(0.0, 50.0), (50.0, 100.0)], n_neuroids=6,
                              n_objects=4)


class Counting:
    """A record_fn returning planted arrays and counting its calls."""

    def __init__(self, n_stimuli, n_bins=3, index=((0, 1), (1, 2))):
        self.calls, self.n_stimuli, self.n_bins, self.index = 0, n_stimuli, n_bins, np.array(index)

    def __call__(self):
        self.calls += 1
        source = np.random.default_rng(self.calls).normal(size=(self.n_stimuli, self.n_bins, 4)).astype(np.float32)
        return source, self.index, {"reducer": "flatten", "schedule": "blank:100,image:100"}


def cached(benchmark, record_fn, tmp_path, **kw):
    args = {"model_id": "baseline-x", "benchmark": benchmark, "area": "pixels", "shifts": [0.0, 10.0],
            "record_fn": record_fn, "folder": tmp_path, **kw}
    return cached_source(**args)


def test_computed_once_then_read_back_exactly(benchmark, tmp_path):
    record = Counting(40)
    first = cached(benchmark, record, tmp_path)
    second = cached(benchmark, record, tmp_path)
    assert record.calls == 1
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert second[2]["reducer"] == "flatten" and second[2]["activity_cache"].startswith(str(tmp_path))
    files = list(cache_folder(tmp_path).rglob("*"))
    assert [f.suffix for f in files if f.is_file()] == [".npz"]  # no temporary file left


@pytest.mark.parametrize("change", [
    {"seed": 1}, {"model_id": "baseline-y"}, {"shifts": [0.0, 20.0]}, {"version": "other"},
    {"settings": {"reducer": "pca"}}, {"area": "other"},
])
def test_every_part_of_the_key_matters(benchmark, tmp_path, change):
    record = Counting(40)
    cached(benchmark, record, tmp_path)
    cached(benchmark, record, tmp_path, **change)
    assert record.calls == 2


def test_other_stimuli_or_time_bins_are_another_entry(benchmark, tmp_path):
    record = Counting(40)
    cached(benchmark, record, tmp_path)
    cached(benchmark.with_time_bins("0:100:100"), Counting(40, index=((0,), (1,))), tmp_path)
    ids = benchmark.responses()["stimulus_id"].values
    subset = Counting(20)
    cached(benchmark.subset(ids[:20]), subset, tmp_path)
    cached(benchmark, record, tmp_path)
    assert (record.calls, subset.calls) == (1, 1)
    assert len(list(cache_folder(tmp_path).rglob("*.npz"))) == 3


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-key", "nan"])
def test_unusable_files_are_recomputed_with_a_warning(benchmark, tmp_path, damage):
    record = Counting(40)
    expected = cached(benchmark, record, tmp_path)[0]
    (path,) = cache_folder(tmp_path).rglob("*.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not an npz file")
    elif damage == "wrong-key":  # another key's (valid) file under this key's name
        cached(benchmark, Counting(40), tmp_path, seed=7)
        other = next(p for p in cache_folder(tmp_path).rglob("*.npz") if p != path)
        path.write_bytes(other.read_bytes())
    else:
        with np.load(path) as data:
            arrays = dict(data)
        arrays["source"][0, 0, 0] = np.nan
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
    with pytest.warns(UserWarning, match="unusable"):
        again = cached(benchmark, record, tmp_path)[0]
    assert record.calls == 2
    assert np.isfinite(again).all() and not np.array_equal(again, expected)
    cached(benchmark, record, tmp_path)  # the replaced file is good
    assert record.calls == 2


def test_default_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROVISION_CACHE", str(tmp_path / "env"))
    assert cache_folder() == tmp_path / "env" / "activity"
    monkeypatch.delenv("NEUROVISION_CACHE")
    assert cache_folder().parent.name == "neurovision" and cache_folder().parent.parent.name == ".cache"


def test_score_model_from_the_cache_equals_recording(benchmark, tmp_path, monkeypatch):
    config = ScoreConfig(shifts="0:40:20", controls=("image",), n_splits=3)
    model = PixelBaseline(grid=6)
    plain = score_model(model, benchmark, config=config, progress=False)
    first = score_model(model, benchmark, config=config, progress=False,
                        record_fn=cached_recorder("baseline-pixels-6", folder=tmp_path))
    monkeypatch.setattr(activity_cache, "_write", None)  # a second recording would now fail
    monkeypatch.setattr("neurovision.brain.scoring.record_source", None)
    second = score_model(model, benchmark, config=config, progress=False,
                         record_fn=cached_recorder("baseline-pixels-6", folder=tmp_path))
    for result in (first, second):
        np.testing.assert_array_equal(result["r"].values, plain["r"].values)
        assert result.attrs["overall_score"] == plain.attrs["overall_score"]


def test_baselines_refuse_benchmarks_without_images(benchmark):
    recording = benchmark.recording.assign_coords(object_name=benchmark.recording["object_name"])
    decoding = DecodingBenchmark("zhangdesimone.IT", recording, "object_name")
    with pytest.raises(DataError, match="baselines do not apply to zhangdesimone.IT.*without the images"):
        image_benchmark(decoding)
    with pytest.raises(DataError, match="cowley2023.V4"):
        score_control("baseline-pixels", decoding)
    assert image_benchmark(benchmark) is benchmark
