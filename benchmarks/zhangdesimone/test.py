"""zhangdesimone.IT on the real rasters: object decoding is at chance before onset and rises after."""
import importlib

import numpy as np
import pytest

import neurovision
from neurovision.errors import DataError


def _plugin():
    neurovision.benchmark_registry.discover()
    return importlib.import_module("neurovision_plugins.benchmarks.zhangdesimone.benchmark")


def test_registered():
    assert "zhangdesimone.IT" in neurovision.benchmark_registry.ids()


@pytest.mark.shared_data
def test_decoding_is_at_chance_before_onset_and_rises_after(shared_data):
    benchmark = _plugin().zhang_desimone_it(bins="-300:300:50", limit=24)
    rec = benchmark.recording
    assert rec.sizes["neuroid"] == 24 and rec.sizes["time_bin"] == 12
    assert set(rec["object_name"].values) == {"car", "couch", "face", "flower", "guitar", "hand", "kiwi"}
    assert rec.sizes["presentation"] == 21 * int(rec["repetition"].max() + 1)
    result = benchmark.run(n_folds=5, n_shuffles=19, seed=0)
    start, accuracy, chance = result["time_bin_start"].values, result["accuracy"].values, result.attrs["chance"]
    assert chance == pytest.approx(1 / 7)
    before, after = start < 0, (start >= 100) & (start < 300)
    assert abs(accuracy[before].mean() - chance) < 0.04 and accuracy[before].max() < chance + 0.07
    assert accuracy[after].mean() > chance + 0.1
    assert np.all(result["p_value"].values[after] <= 0.05)
    assert abs(float(result["control_accuracy"].values[after].mean()) - chance) < 0.03


@pytest.mark.shared_data
def test_bins_outside_the_raster_are_rejected(shared_data):
    with pytest.raises(DataError, match="outside the raster"):
        _plugin().zhang_desimone_it(bins="400:600:100", limit=2)
