"""Statistics of the scoring: fast null draws, multiplicity, the corrected t-test, the shift
decision, the comparison API and bad input (planted data with known truth)."""
import numpy as np
import pytest
from scipy import stats as scipy_stats

from neurovision.brain.alignment import shift_curve
from neurovision.brain.compare import compare, format_comparison
from neurovision.brain.controls import per_split_r, ridge_draws, time_permutations
from neurovision.brain.crossval import CrossValidatedMapping
from neurovision.brain.scoring import ScoreConfig, score_arrays
from neurovision.brain.splits import brainscore_splits
from neurovision.brain.stats import corrected_resampled_t, holm, max_statistic_p
from neurovision.brain.synthetic import planted_arrays
from neurovision.errors import DataError

BINS = [(float(t), t + 25.0) for t in range(0, 100, 25)]


@pytest.mark.parametrize("mode,features", [("spantime", 6), ("perbin", 6), ("spantime", 200), ("perbin", 50)])
def test_ridge_draws_equal_the_mapping_refitted_per_draw(mode, features):
    """Primal (few features) and dual (more features than rows) factorisations alike."""
    rng = np.random.default_rng(0)
    source, target = rng.normal(size=(40, 5, features)).astype(np.float32), rng.normal(size=(40, 4, 3))
    mapping = CrossValidatedMapping(source, brainscore_splits(40), mode, "ridge", alpha=2.0)
    index, chosen = np.array([[0, 1, 2, 3], [1, 2, 3, 4]]), rng.integers(0, 2, 10)
    targets = np.stack([target[rng.permutation(40)] for _ in range(5)])
    expected = np.stack([per_split_r(mapping, t, index, chosen) for t in targets])
    np.testing.assert_allclose(ridge_draws(mapping, targets, index, chosen), expected, atol=1e-10)


def test_time_permutations_enumerate_or_sample_without_identity():
    every = time_permutations(4, 100, np.random.default_rng(0))
    assert len(every) == 23 and len({tuple(p) for p in every}) == 23
    assert not any(np.array_equal(p, np.arange(4)) for p in every)
    some = time_permutations(8, 50, np.random.default_rng(0))
    assert some.shape == (50, 8) and len({tuple(p) for p in some}) == 50


def test_max_statistic_adjusts_and_holm_matches_its_definition():
    null = np.random.default_rng(0).normal(size=(999, 5))
    raw, adjusted = max_statistic_p(np.array([3.5, 0.0, 0.0, 0.0, 0.0]), null)
    assert raw[0] < 0.002 and adjusted[0] < 0.01 and np.all(adjusted >= raw)
    # 2.0 s.d. in one of five bins: about 2.3 % alone, but not once the bins are many
    raw, adjusted = max_statistic_p(np.array([2.0, -9, -9, -9, -9]), null)
    assert raw[0] < 0.05 < adjusted[0]
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, np.nan])), [0.03, 0.06, 0.06, np.nan])


def test_corrected_resampled_t_inflates_the_variance_by_the_overlap():
    d = np.array([0.1, 0.2, 0.15, 0.05, 0.12, 0.18, 0.09, 0.11, 0.16, 0.14])
    out = corrected_resampled_t(d, n_train=90, n_test=10)
    se = np.sqrt((1 / 10 + 10 / 90) * d.var(ddof=1))
    assert out["se"] == pytest.approx(se) and out["t"] == pytest.approx(d.mean() / se)
    assert out["p"] == pytest.approx(2 * scipy_stats.t.sf(d.mean() / se, 9))
    assert out["low"] == pytest.approx(d.mean() - scipy_stats.t.ppf(0.975, 9) * se)
    with pytest.raises(DataError, match=">= 3 splits"):
        corrected_resampled_t(d[:2], 90, 10)


def test_a_flat_curve_is_not_identified_and_a_peaked_one_is():
    rng = np.random.default_rng(0)
    flat = 0.35 + 0.03 * rng.normal(size=(10, 3, 11)) - np.linspace(0, 0.01, 11)
    assert not shift_curve(flat, 3)["identified"]
    peaked = 0.3 + 0.02 * rng.normal(size=(10, 3, 7)) + 0.3 * np.exp(-((np.arange(7) - 3) ** 2))
    summary = shift_curve(peaked, 3)
    assert summary["identified"] and summary["best"] == 3 and summary["within"].sum() == 1


def _score(source, target, lead_bins=0, **config):
    index = np.array([np.arange(4) + s for s in range(lead_bins + 1)])
    config = ScoreConfig(regression="ridge", n_components=4, **{"shift": 0.0, **config})
    return score_arrays(source, index, target, BINS, config)


def test_flat_alignment_prints_shift_not_identified():
    from neurovision.brain.results import format_table

    data = planted_arrays(signal=0.0, lead_bins=1, seed=2)
    ds = _score(data["source"], data["target"], 1, shift="auto", shifts=[0.0, 25.0])
    assert ds.attrs["shift_identified"] == 0 and "shift not identified" in format_table(ds)
    real = planted_arrays(signal=1.0, lead_bins=1, seed=2)
    ds = _score(real["source"], real["target"], 1, shift="auto", shifts=[0.0, 25.0])
    assert ds.attrs["shift_identified"] == 1 and ds.attrs["shift_best_ms"] == 25.0
    assert "best at the edge of the candidates" in format_table(ds)  # 25 ms is the largest candidate
    trailing = np.concatenate([real["source"], np.random.default_rng(3).normal(size=real["source"][:, :1].shape)], 1)
    index = np.array([np.arange(4) + s for s in range(3)])
    config = ScoreConfig(regression="ridge", n_components=4, shift="auto", shifts=[0.0, 25.0, 50.0])
    inside = score_arrays(trailing, index, real["target"], BINS, config)
    assert inside.attrs["shift_best_ms"] == 25.0 and "edge of the candidates" not in format_table(inside)


def test_compare_finds_the_better_model_and_not_a_trivial_one():
    data = planted_arrays(signal=1.0, seed=4)
    rng = np.random.default_rng(4)
    good = _score(data["source"], data["target"])
    worse = _score(data["latent"] + 2.5 * rng.normal(size=data["latent"].shape), data["target"])
    noise = _score(rng.normal(size=data["latent"].shape), data["target"])
    better = compare(good, worse)
    assert better.attrs["verdict"] == "A better" and better.attrs["overall_ci_low"] > 0
    assert better["difference"].dims == ("time_bin",) and np.all(better["ci_low"] <= better["ci_high"])
    trivial = compare(noise, good)
    assert trivial.attrs["verdict"] == "B better" and trivial.attrs["overall_ci_high"] < 0
    assert "-> B better" in format_comparison(trivial)
    same = compare(good, good)
    assert same.attrs["overall_difference"] == 0 and same.attrs["verdict"] == "no difference"


def test_compare_refuses_results_from_other_splits_or_benchmarks():
    data = planted_arrays(signal=1.0, seed=5)
    a = _score(data["source"], data["target"])
    b = _score(data["source"][:50], data["target"][:50])
    with pytest.raises(DataError, match="splits"):
        compare(a, b)
    with pytest.raises(DataError, match="no per-split test stimuli"):
        compare(a, a.drop_vars("test_stimulus"))


def test_too_few_draws_or_stimuli_are_clear_errors():
    data = planted_arrays(n_stimuli=60, seed=6)
    with pytest.raises(DataError, match="use >= 19"):
        _score(data["source"], data["target"], n_permutations=5)
    with pytest.raises(DataError, match="need >= 9 stimuli"):
        ScoreConfig(n_permutations=100000).check(6)
    with pytest.raises(DataError, match="level"):
        ScoreConfig(level=1.5).check(60)


def test_image_and_time_nulls_on_planted_data():
    stable = planted_arrays(signal=1.0, seed=7)
    ds = _score(stable["source"], stable["target"], n_permutations=39).squeeze("region")
    assert ds.attrs["permutation_p_value"] == pytest.approx(1 / 40)
    assert abs(float(ds["null_mean"].mean())) < 0.05 and np.all(ds["p_value"] <= 0.05)
    changing = planted_arrays(signal=1.0, shared=0.3, seed=7)
    ds = _score(changing["source"], changing["target"], n_permutations=39).squeeze("region")
    assert ds.attrs["time_specificity"] > 0.1 and ds.attrs["time_specificity_p_value"] == pytest.approx(1 / 24)
