"""Psychometric and chronometric fits recover planted behaviour within their intervals."""
import numpy as np
import pandas as pd
import pytest

from neurovision.backend.evaluation import Evaluation
from neurovision.backend.psychometric import (behaviour_summary, bootstrap_fit, chronometric_ci, curve_values,
                                              fit_non_decision_time, graded_strength)
from neurovision.errors import DataError, UnknownIdError

X = np.array([-51.2, -25.6, -12.8, -6.4, -3.2, 0.0, 3.2, 6.4, 12.8, 25.6, 51.2])


def test_logistic_parameters_recovered_within_their_intervals():
    rng = np.random.default_rng(3)
    truth = {"bias": 2.0, "scale": 6.0, "lapse": 0.0}
    n = np.full(X.size, 300)
    fit = bootstrap_fit(X, rng.binomial(n, curve_values("logistic", truth, X)), n, "logistic", lapse=False, n_boot=100)
    for name, value in (("bias", 2.0), ("scale", 6.0), ("threshold", 6.0 * np.log(3)), ("slope", 1 / 24)):
        lo, hi = fit[name]["ci"]
        assert lo <= value <= hi, name
    assert fit["scale"]["ci"][1] < 12.0 and fit["bias"]["ci"][1] - fit["bias"]["ci"][0] < 3.0  # informative


def test_weibull_threshold_and_slope_recovered():
    rng = np.random.default_rng(4)
    x = np.abs(X[X > 0])
    truth = {"alpha": 10.0, "beta": 1.5, "lapse": 0.0}
    n = np.full(x.size, 400)
    fit = bootstrap_fit(x, rng.binomial(n, curve_values("weibull", truth, x)), n, "weibull", lapse=False, n_boot=100)
    assert fit["threshold"]["ci"][0] <= 10.0 <= fit["threshold"]["ci"][1]
    assert fit["slope"]["ci"][0] <= 1.5 <= fit["slope"]["ci"][1] and fit["slope"]["ci"][1] < 3.0


def test_chronometric_slope_and_non_decision_offset():
    rng = np.random.default_rng(5)
    x = np.repeat([0.0, 6.4, 25.6, 51.2], 200)
    decision = 400 - 4.0 * x + rng.normal(0, 40, x.size)
    curve = chronometric_ci(decision, x, n_boot=100)
    assert curve["slope_ms_per_unit"]["ci"][0] <= -4.0 <= curve["slope_ms_per_unit"]["ci"][1]
    reference = np.asarray(curve["rt_ms"]) + 300.0
    assert fit_non_decision_time(curve["rt_ms"], reference) == pytest.approx(300.0)


def test_summary_separates_trials_without_a_response():
    rng = np.random.default_rng(6)
    x = rng.choice(X, 4000)
    choice = np.where(rng.random(x.size) < curve_values("logistic", {"bias": 0, "scale": 5, "lapse": 0}, x), 1, 2)
    target = np.where(x > 0, 1, np.where(x < 0, 2, rng.choice([1, 2], x.size)))
    responded = rng.random(x.size) > 0.2
    table = pd.DataFrame({"signed_coherence": x, "target": target, "responded": responded,
                          "choice": np.where(responded, choice, 0), "rt_ms": np.where(responded, 500.0, np.nan)})
    table["correct"] = table["choice"] == table["target"]
    out = behaviour_summary(table, n_boot=50)
    assert out["no_response_fraction"] == pytest.approx(1 - responded.mean())
    assert out["accuracy_responded"] == pytest.approx(table[responded]["correct"].mean())
    assert out["accuracy_responded"] > table["correct"].mean() + 0.1  # no-response is not an error here
    assert abs(out["logistic"]["scale"]["estimate"] - 5) < 1 and out["logistic"]["slope"]["ci"][0] > 0
    assert "weibull" in out and "chronometric" in out


def test_graded_strength_of_the_classic_tasks():
    table = pd.DataFrame({"target": [1, 2], "coh_1": [5, 50], "coh_2": [15, 5], "context": [0, 1]})
    assert graded_strength(table).tolist() == [5.0, -5.0]
    assert graded_strength(pd.DataFrame({"target": [1, 2], "v1": [30, 10], "v2": [22, 18]})).tolist() == [8.0, -8.0]
    assert graded_strength(pd.DataFrame({"target": [1, 2], "sample_theta": [0, 1]})) is None


def test_bad_inputs():
    with pytest.raises(DataError, match="two or more strengths"):
        bootstrap_fit([5.0, 5.0], [1, 2], [4, 4])
    with pytest.raises(UnknownIdError):
        bootstrap_fit(X, np.ones(X.size), np.full(X.size, 2), kind="gaussian")
    with pytest.raises(DataError, match="unsigned"):
        bootstrap_fit(X, np.ones(X.size), np.full(X.size, 2), kind="weibull")


def test_evaluation_reports_accuracy_on_responses_and_the_no_response_fraction():
    table = pd.DataFrame({"choice": [1, 2, 0, 0], "correct": [True, False, False, False], "decision_ms": [200, 300, np.nan, np.nan],
                          "non_decision_ms": 300.0, "responded": [True, True, False, False]})
    table["rt_ms"] = table["decision_ms"] + 300.0
    summary = Evaluation(0.5, 0.5, 4, 1.0, None, table, 2).summary()
    assert summary["no_response_fraction"] == 0.5 and summary["accuracy_all_trials"] == 0.25
    assert summary["mean_rt_ms"] == 550.0 and summary["mean_decision_ms"] == 250.0
