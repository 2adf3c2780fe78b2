"""Calibration: each reported test's false-positive rate on 200 planted null data sets is at
most 0.07 at level 0.05, and a modest planted effect is detected in >= 80 % of data sets."""
import pytest

from neurovision.brain.calibration import measure

pytestmark = pytest.mark.slow  # 200 planted data sets per scenario, 12-20 s each on two cores

N = 200
WORKERS = 2


def test_no_relation_is_rejected_at_the_nominal_rate():
    rates = measure("null", N, workers=WORKERS)
    assert rates["image_mean_score"] <= 0.07
    assert rates["image_some_bin"] <= 0.07
    assert rates["time_specificity"] <= 0.07


def test_stable_selectivity_is_not_reported_time_specific():
    assert measure("stable", N, workers=WORKERS)["time_specificity"] <= 0.07


def test_modest_relation_and_changing_tuning_are_detected():
    assert measure("modest", N, workers=WORKERS)["image_mean_score"] >= 0.8
    assert measure("time_specific", N, workers=WORKERS)["time_specificity"] >= 0.8


def test_model_comparison_is_calibrated_and_finds_the_better_model():
    assert measure("compare_null", N, workers=WORKERS)["reported_different"] <= 0.07
    assert measure("compare_better", N, workers=WORKERS)["a_reported_better"] >= 0.8
    assert measure("compare_trivial", N, workers=WORKERS)["a_reported_better"] == 0.0


def test_workers_give_the_rates_of_one_process():
    for kind in ("modest", "compare_better"):
        assert measure(kind, 12, workers=WORKERS) == measure(kind, 12)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        measure("null", 2, workers=0)
