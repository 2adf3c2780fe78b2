"""Planted ground truth: neural data made from a model's activity with a 70 ms latency."""
import numpy as np
import pytest
import torch

from neurovision.brain.scoring import ScoreConfig, score_model
from neurovision.brain.synthetic import TwoTimescaleModel, planted_benchmark

pytestmark = pytest.mark.slow  # ~30 s of CPU: the scoring of two planted benchmarks

BINS = [(float(s), s + 10.0) for s in range(0, 240, 10)]


@pytest.fixture(scope="module")
def planted():
    model = TwoTimescaleModel()
    images = torch.rand(150, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    truth = planted_benchmark(model, "out", images, latency_ms=70, bins=BINS, noise=0.5)
    other = planted_benchmark(TwoTimescaleModel(tau_fast=40, tau_slow=150, seed=5), "out", images,
                              latency_ms=70, bins=BINS, noise=0.5)
    config = ScoreConfig(shifts="40:100:10", controls=("temporal", "image"), n_permutations=19)
    result = score_model(model, truth, area="out", config=config, progress=False)
    return model, other, result


def test_recovers_the_latency_within_one_bin(planted):
    _, _, result = planted
    assert abs(result.attrs["shift_ms"] - 70) <= 10
    assert np.all(np.abs(result["shift"].values - 70) <= 10)
    curve = result["alignment_curve"].squeeze("region")
    assert float(curve["shift_candidate"][int(curve.argmax())]) == pytest.approx(70, abs=10)
    assert result.attrs["shift_identified"] == 1
    assert 60 <= result.attrs["shift_within_low_ms"] <= 70 <= result.attrs["shift_within_high_ms"] <= 80


def test_scores_near_the_ceiling_where_neurons_respond(planted):
    _, _, result = planted
    ds = result.squeeze("region")
    responding = ds["time_bin_start"].values >= 80
    assert np.nanmean(ds["normalized_score"].values[responding]) > 0.85
    silent = ds["time_bin_end"].values <= 70
    assert np.all(np.abs(ds["score"].values[silent]) < 0.1)


def test_nulls_are_far_lower_and_significant(planted):
    _, _, result = planted
    ds = result.squeeze("region")
    score = ds.attrs["overall_score"]
    assert float(ds["null_mean"].mean()) < score - 0.15
    assert ds.attrs["permutation_p_value"] == pytest.approx(1 / 20)  # above all 19 draws
    responding = ds["time_bin_start"].values >= 80
    assert np.all(ds["p_value"].values[responding] <= 0.05)  # max-statistic adjusted
    # the two-timescale model's pattern changes over time: the real bin pairing wins
    assert ds.attrs["time_specificity"] > 0.1 and ds.attrs["time_specificity_p_value"] == pytest.approx(1 / 20)


def test_data_from_a_different_model_scores_lower(planted):
    model, other, result = planted
    wrong = score_model(model, other, area="out", config=ScoreConfig(shift=70, controls=()), progress=False)
    assert wrong.attrs["overall_normalized_score"] < result.attrs["overall_normalized_score"] - 0.1
