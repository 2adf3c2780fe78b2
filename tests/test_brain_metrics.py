"""The scoring numerics against their reference definitions (scikit-learn, brainscore-vision)."""
import warnings

import joblib
import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from neurovision.brain.ceiling import ceiling_per_bin, split_half_consistency, spearman_brown
from neurovision.brain.crossval import CrossValidatedMapping, aggregate, atoms, routes
from neurovision.brain.linear import pearson_columns, pls_coefficients, projected_r, ridge_coefficients
from neurovision.brain.ridge_fit import dual_predictor, primal_predictor
from neurovision.brain.splits import brainscore_splits
from neurovision.errors import DataError, ShapeError


def _moments(X, Y):
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    return xm, ym, Xc.T @ Xc, Xc.T @ Yc, Yc.T @ Yc


@pytest.mark.parametrize("n,features,targets,components", [(200, 40, 7, 25), (120, 60, 1, 10), (300, 150, 30, 25)])
def test_pls_from_moments_equals_sklearn(n, features, targets, components):
    rng = np.random.default_rng(features)
    X = rng.normal(size=(n, features)) @ rng.normal(size=(features, features)) * 0.3 + 3 * rng.normal(size=features)
    Y = X[:, :5] @ rng.normal(size=(5, targets)) + rng.normal(size=(n, targets))
    reference = PLSRegression(n_components=components, scale=False).fit(X, Y)
    xm, ym, C, S, YY = _moments(X, Y)
    coef = pls_coefficients(C, S, YY, components)
    test = rng.normal(size=(30, features))
    ours = (test - xm) @ coef + ym
    np.testing.assert_allclose(ours, reference.predict(test).reshape(ours.shape), atol=1e-9)


def test_pls_batch_equals_one_at_a_time():
    rng = np.random.default_rng(3)
    sets = [(rng.normal(size=(80, 30)), rng.normal(size=(80, 4))) for _ in range(3)]
    parts = [_moments(X, X[:, :4] + Y) for X, Y in sets]
    batch = pls_coefficients(*(np.stack([p[i] for p in parts]) for i in (2, 3, 4)), n_components=8)
    for p, b in zip(parts, batch):
        np.testing.assert_allclose(b, pls_coefficients(p[2], p[3], p[4], 8), atol=1e-12)


def test_ridge_from_moments_equals_sklearn():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 80)), rng.normal(size=(50, 3))
    xm, ym, C, S, _ = _moments(X, Y)
    test = rng.normal(size=(7, 80))
    expected = Ridge(alpha=2.5).fit(X, Y).predict(test)
    np.testing.assert_allclose((test - xm) @ ridge_coefficients(C, S, 2.5) + ym, expected, atol=1e-9)


@pytest.mark.parametrize("rows,features", [(30, 80), (90, 40)])
def test_primal_and_dual_ridge_predict_sklearns_values(rows, features):
    """Predictions themselves (not only their correlations), features far from zero mean."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(rows + 9, features)) + 5.0, rng.normal(size=(rows + 9, 3))
    train, test = np.arange(rows), np.arange(rows, rows + 9)
    expected = Ridge(alpha=2.5).fit(X[train], Y[train]).predict(X[test])
    primal = primal_predictor(X[train], X[test], 2.5)(Y[train])
    dual = dual_predictor(X @ X.T, train, test, 2.5)(Y[train])
    np.testing.assert_allclose(primal, expected, atol=1e-9)
    np.testing.assert_allclose(dual, expected, atol=1e-9)


def test_pearson_columns_matches_numpy_and_flags_constants():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    expected = [np.corrcoef(a[:, i], b[:, i])[0, 1] for i in range(3)]
    np.testing.assert_allclose(pearson_columns(a, b), expected, atol=1e-12)
    assert np.isnan(pearson_columns(np.ones((5, 1)), b[:5, :1]))[0]


def test_projected_r_equals_pearson_of_the_formed_predictions():
    """r of ``scores @ loading'`` from the scores' moments equals Pearson r of the predictions
    themselves, offsets included (r ignores them); a prediction constant across images (a zero
    loading row, or a bin whose scores are the same for every image) has r = 0, a constant
    target NaN, and ``loading=None`` scores the scores as predictions."""
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(40, 4, 5)) + 30.0
    loading = rng.normal(size=(3, 5))
    loading[2] = 0.0
    target = scores[..., :3] * 0.5 + rng.normal(size=(40, 4, 3))
    predictions = scores @ loading.T + 7.0
    expected = pearson_columns(predictions.transpose(1, 0, 2), target.transpose(1, 0, 2))
    r = projected_r(scores, loading, target)
    np.testing.assert_allclose(r[:, :2], expected[:, :2], atol=1e-12)
    assert (r[:, 2] == 0).all()
    silent = scores.copy()
    silent[:, 0] = scores[0, 0] * (1 + 1e-16 * rng.normal(size=5))  # bin 0: the same for every image
    flat = target.copy()
    flat[:, 1, 0] = 2.5
    r = projected_r(silent, loading, flat)
    assert (r[0] == 0).all() and np.isnan(r[1, 0]) and np.isfinite(r[1:, 1]).all()
    plain = pearson_columns(scores[..., :3].transpose(1, 0, 2), target.transpose(1, 0, 2))
    np.testing.assert_allclose(projected_r(scores[..., :3], None, target), plain, atol=1e-12)


@pytest.mark.parametrize("total", [True, False])
def test_set_moments_equal_direct_sums_over_overlapping_sets(total):
    """Stimuli held out by 0-5 of ten overlapping sets: every set's moments (and all stimuli's)
    built from grouped products, additions and closed totals equal direct sums of its rows."""
    rng = np.random.default_rng(4)
    n, bins, features, neuroids = 300, 3, 7, 2
    source = rng.normal(size=(n, bins, features)) + 3.0
    target = rng.normal(size=(n, bins, neuroids))
    sets = [np.sort(rng.choice(n, 30 + 9 * k, replace=False)) for k in range(10)]
    assert np.bincount(np.concatenate(sets)).max() >= 4
    mapping = CrossValidatedMapping(source, brainscore_splits(n), n_components=3)
    moments = mapping._set_moments(sets, range(bins), target, total=total)
    expected = ([np.arange(n)] if total else []) + sets
    assert len(moments) == len(expected)
    for m, rows in zip(moments, expected):
        X, Y = source[rows].reshape(-1, features), target[rows].reshape(-1, neuroids)
        assert m.n == len(X)
        np.testing.assert_allclose(m.sx, X.sum(0), rtol=1e-12)
        np.testing.assert_allclose(m.xx, X.T @ X, rtol=1e-12)
        np.testing.assert_allclose(m.xy, X.T @ Y, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(m.yy, Y.T @ Y, rtol=1e-12)
        np.testing.assert_allclose(m.sy, Y.sum(0), rtol=1e-12, atol=1e-12)


def _reached(carriers, direct, later, last):
    """For each member, the list of totals its rows are multiplied into (with repeats)."""
    reached = {}
    for pattern, parts in carriers.items():
        for members in parts:
            for i in members:
                reached.setdefault(int(i), []).extend(pattern)
    for members in direct:
        for i in members:
            reached.setdefault(int(i), []).append(last)
    for j, members in later:
        for i in members:
            reached.setdefault(int(i), []).append(j)
    return reached


def test_routes_take_the_cheapest_way_to_each_total():
    """Planted groups, all last held out by set 3: a large pair carries; a small triple rides on
    it (its third set gets its rows late); a one-member pair is multiplied into both totals; a
    large triple that contains no carrier gets its own; a one-member quad rides on that triple."""
    groups = [(np.array([0, 3]), np.arange(0, 14)), (np.array([0, 2, 3]), np.arange(14, 16)),
              (np.array([1, 3]), np.arange(16, 17)), (np.array([1, 2, 3]), np.arange(17, 27)),
              (np.array([0, 1, 2, 3]), np.arange(27, 28))]
    carriers, direct, later = routes(groups, add_cost=1.0)
    assert {p: sorted(np.concatenate(m).tolist()) for p, m in carriers.items()} == {
        (0, 3): list(range(0, 16)), (1, 2, 3): list(range(17, 28))}
    assert [m.tolist() for m in direct] == [[16]]
    assert sorted((j, m.tolist()) for j, m in later) == [(0, [27]), (1, [16]), (2, [14, 15])]
    # a dearer addition turns the large pair into direct products, and the triple rides on nothing
    carriers, direct, _ = routes(groups[:2], add_cost=20.0)
    assert carriers == {} and len(direct) == 2


def test_routes_bring_every_stimulus_to_each_of_its_totals_once():
    rng = np.random.default_rng(7)
    sets = [np.sort(rng.choice(400, 40 + 10 * k, replace=False)) for k in range(10)]
    groups = atoms(sets, 400)
    for k in range(10):
        mine = [(p, m) for p, m in groups if len(p) and p[-1] == k]
        reached = _reached(*routes(mine), last=k)
        for pattern, members in mine:
            for i in members:
                assert sorted(reached[int(i)]) == pattern.tolist()


def test_splits_are_brainscores_own():
    from brainscore_vision.metric_helpers.transformations import Split
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

    objects = np.repeat([f"o{i}" for i in range(8)], 10)
    ids = [f"s{i:03d}" for i in np.random.default_rng(0).permutation(80)]
    assembly = NeuroidAssembly(np.zeros((80, 1)), dims=["presentation", "neuroid"], coords={
        "stimulus_id": ("presentation", ids), "object_name": ("presentation", objects),
        "neuroid_id": ("neuroid", ["n"])})
    _, theirs = Split(stratification_coord="object_name").build_splits(assembly)
    ours = brainscore_splits(80, objects)
    for (train, test), (their_train, their_test) in zip(ours, theirs):
        assert np.array_equal(train, their_train) and np.array_equal(test, their_test)
    assert len(ours) == 10 and len(ours.test[0]) == 8


def test_too_few_presentations_is_a_clear_error():
    with pytest.raises(DataError, match="too few"):
        brainscore_splits(5)
    with pytest.raises(DataError, match="at least 2 presentations of every stratum"):
        brainscore_splits(40, ["a"] * 39 + ["b"])


def _assembly(values, ids, objects, prefix):
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly

    n, bins = values.shape[2], values.shape[1]
    return NeuroidAssembly(np.transpose(values, (0, 2, 1)), dims=["presentation", "neuroid", "time_bin"], coords={
        "stimulus_id": ("presentation", ids), "object_name": ("presentation", objects),
        "neuroid_id": ("neuroid", [f"{prefix}{i}" for i in range(n)]), "region": ("neuroid", ["IT"] * n),
        "time_bin_start": ("time_bin", np.arange(bins) * 10), "time_bin_end": ("time_bin", np.arange(bins) * 10 + 10)})


def test_spantime_equals_brainscore_spantime_pls():
    """Same data and splits: per-bin scores and every per-neuroid r equal brainscore's to 1e-5."""
    from brainscore_vision import load_metric

    rng = np.random.default_rng(0)
    n, features, neuroids, bins = 80, 30, 6, 4
    objects = np.repeat([f"o{i}" for i in range(8)], 10)
    ids = np.array([f"s{i:03d}" for i in rng.permutation(n)])
    source = rng.normal(size=(n, bins, features)).astype(np.float32)
    mixing = rng.normal(size=(10, neuroids))
    target = np.einsum("ptf,fn->ptn", source[:, :, :10], mixing) + 2 * rng.normal(size=(n, bins, neuroids))
    target[:, 2] += 0.5 * source[:, 2, 10:16]  # bin-specific structure
    metric = load_metric("spantime_pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
    with joblib.parallel_config(backend="threading"):
        theirs = metric(_assembly(source, ids, objects, "m"), _assembly(target, ids, objects, "n"))
    r = CrossValidatedMapping(source, brainscore_splits(n, objects)).correlations(target, range(bins))
    np.testing.assert_allclose(aggregate(r), theirs.values, atol=1e-5)
    raw = theirs.raw.transpose("split", "neuroid", "time_bin")
    order = np.argsort(raw["neuroid_id"].values)
    np.testing.assert_allclose(r[:, order.argsort()], raw.values, atol=1e-5)


def test_ceiling_equals_brainscore_internal_consistency_temporal():
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision import load_ceiling

    rng = np.random.default_rng(0)
    stimuli, repeats, neuroids, bins = 40, 6, 5, 3
    signal = rng.normal(size=(stimuli, neuroids, bins))
    stimulus = np.repeat(np.arange(stimuli), repeats)
    repetition = np.tile(np.arange(repeats), stimuli)
    trials = signal[stimulus] + 1.5 * rng.normal(size=(stimuli * repeats, neuroids, bins))
    ids = np.array([f"s{i:03d}" for i in range(stimuli)])[stimulus]
    assembly = NeuroidAssembly(trials, dims=["presentation", "neuroid", "time_bin"], coords={
        "stimulus_id": ("presentation", ids), "repetition": ("presentation", repetition),
        "neuroid_id": ("neuroid", [f"n{i}" for i in range(neuroids)]), "region": ("neuroid", ["IT"] * neuroids),
        "time_bin_start": ("time_bin", [0, 10, 20]), "time_bin_end": ("time_bin", [10, 20, 30])})
    theirs = load_ceiling("internal_consistency_temporal")(assembly)
    ours = ceiling_per_bin(split_half_consistency(trials, stimulus, repetition))
    np.testing.assert_allclose(ours, theirs.values, atol=1e-10)


def test_spearman_brown_doubles_a_half_length_reliability():
    assert spearman_brown(0.5) == pytest.approx(2 / 3)
    assert spearman_brown(0.0) == 0.0 and spearman_brown(1.0) == 1.0


def test_perbin_fits_each_bin_separately():
    """Per-bin mode equals an independent sklearn fit per bin and split."""
    rng = np.random.default_rng(4)
    source = rng.normal(size=(60, 3, 12))
    target = np.stack([source[:, t, t:t + 2] for t in range(3)], 1) + 0.3 * rng.normal(size=(60, 3, 2))
    splits = brainscore_splits(60, n_splits=3)
    ours = CrossValidatedMapping(source, splits, mode="perbin", n_components=5).correlations(target, range(3))
    for k, (train, test) in enumerate(splits):
        for t in range(3):
            fit = PLSRegression(n_components=5, scale=False).fit(source[train, t], target[train, t])
            expected = pearson_columns(fit.predict(source[test, t]), target[test, t])
            np.testing.assert_allclose(ours[k, :, t], expected, atol=1e-9)


def test_perbin_batches_run_side_by_side_with_the_same_scores(monkeypatch):
    """With two BLAS threads the per-bin batches (one bin each here) run on two workers, BLAS
    single-threaded in each; scores and power-iteration records equal the one-thread run's."""
    import threading

    from threadpoolctl import threadpool_limits

    from neurovision.brain.ridge_fit import blas_threads, side_by_side_fits

    rng = np.random.default_rng(5)
    source = rng.normal(size=(80, 6, 12)) + 20.0
    target = source[:, :, :3] @ rng.normal(size=(3, 4)) + rng.normal(size=(80, 6, 4))
    splits = brainscore_splits(80, n_splits=4)
    workers = []  # the thread that formed each bin's moments
    moments = CrossValidatedMapping._bin_moments
    monkeypatch.setattr(CrossValidatedMapping, "_bin_moments",
                        lambda self, *a: workers.append(threading.get_ident()) or moments(self, *a))
    runs = []
    for threads in (1, 2):
        workers.clear()
        with threadpool_limits(threads):
            with side_by_side_fits() as pool:
                assert (pool.workers, blas_threads()) == (threads, 1)
            mapping = CrossValidatedMapping(source, splits, mode="perbin", n_components=5, batch_bytes=1)
            runs.append((mapping.correlations(target, range(6)), mapping.power_stats.summary()))
        assert len(workers) == 6 and len(set(workers)) == threads
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1] and runs[1][1]["pls_component_fits"] == 4 * 6 * 5


def test_spantime_fits_run_blas_single_threaded(monkeypatch):
    """Span-time moments use every BLAS thread; the fits and scores after them use one (their
    small products ran several times slower on two), and the limit is lifted afterwards."""
    from threadpoolctl import threadpool_limits

    from neurovision.brain.ridge_fit import blas_threads

    seen = {}
    fit, moments = CrossValidatedMapping._fit, CrossValidatedMapping._set_moments
    monkeypatch.setattr(CrossValidatedMapping, "_fit",
                        lambda self, *a, **k: seen.setdefault("fit", blas_threads()) and fit(self, *a, **k))
    monkeypatch.setattr(CrossValidatedMapping, "_set_moments",
                        lambda self, *a, **k: seen.setdefault("moments", blas_threads()) and moments(self, *a, **k))
    rng = np.random.default_rng(6)
    source = rng.normal(size=(60, 3, 12))
    target = source[:, :, :2] @ rng.normal(size=(2, 3)) + rng.normal(size=(60, 3, 3))
    with threadpool_limits(2):
        CrossValidatedMapping(source, brainscore_splits(60, n_splits=3), n_components=4).correlations(target, range(3))
        assert seen == {"moments": 2, "fit": 1} and blas_threads() == 2


@pytest.mark.parametrize("mode", ["spantime", "perbin"])
def test_overlapping_held_out_sets_equal_direct_sklearn_fits(mode):
    """Brain-Score's splits hold stimuli out more than once; the grouped moment sums and the
    per-bin downdates still give every split sklearn's own fit (features far from zero mean)."""
    rng = np.random.default_rng(7)
    n, bins, features = 150, 3, 20
    objects = np.repeat([f"o{i}" for i in range(5)], 30)
    source = rng.normal(size=(n, bins, features)) + 50.0
    target = source[:, :, :4] @ rng.normal(size=(4, 3)) + rng.normal(size=(n, bins, 3))
    splits = brainscore_splits(n, objects)
    assert max(np.bincount(np.concatenate(splits.test))) >= 3  # some stimuli held out 3+ times
    ours = CrossValidatedMapping(source, splits, mode=mode, n_components=6).correlations(target, range(bins))
    for k, (train, test) in enumerate(splits):
        groups = [[0, 1, 2]] if mode == "spantime" else [[0], [1], [2]]
        for group in groups:
            X = source[train][:, group].reshape(-1, features)
            fit = PLSRegression(n_components=6, scale=False).fit(X, target[train][:, group].reshape(-1, 3))
            for t in group:
                expected = pearson_columns(fit.predict(source[test, t]), target[test, t])
                np.testing.assert_allclose(ours[k, :, t], expected, atol=1e-9)


@pytest.mark.parametrize("mode", ["spantime", "perbin"])
def test_more_components_than_the_features_rank_stop_at_the_rank(mode):
    """Features of rank 5 (20 columns mixing 5 latents, mean 50) and 12 components asked for:
    once the rank is spent the deflated moments hold only rounding, which once overflowed the
    power method. Every fit stops at the rank, with no overflow, and scores as sklearn's own fit
    with 5 components (its fit of further components on samples would regress on rounding)."""
    rng = np.random.default_rng(8)
    n, bins, rank = 150, 2, 5
    objects = np.repeat([f"o{i}" for i in range(5)], 30)
    latent = rng.normal(size=(n, bins, rank))
    source = latent @ rng.normal(size=(rank, 20)) + 50.0
    target = latent[:, :, :3] @ rng.normal(size=(3, 4)) + rng.normal(size=(n, bins, 4))
    splits = brainscore_splits(n, objects)
    mapping = CrossValidatedMapping(source, splits, mode=mode, n_components=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = mapping.correlations(target, range(bins))
    fits = len(splits) * (1 if mode == "spantime" else bins)
    assert mapping.power_stats.rank_stops == fits and mapping.power_stats.summary()["pls_rank_stops"] == fits
    for k, (train, test) in enumerate(splits):
        for group in ([[0, 1]] if mode == "spantime" else [[0], [1]]):
            X = source[train][:, group].reshape(-1, 20)
            fit = PLSRegression(n_components=rank, scale=False).fit(X, target[train][:, group].reshape(-1, 4))
            for t in group:
                expected = pearson_columns(fit.predict(source[test, t]), target[test, t])
                np.testing.assert_allclose(ours[k, :, t], expected, atol=1e-9)


@pytest.mark.parametrize("kind", ["noise", "exact", "one_latent", "constant", "duplicate"])
def test_degenerate_features_and_targets_never_overflow(kind):
    """Random ranks (1..F), component counts (1..F), feature means 0 or 50, and targets that are
    noise, exactly linear in the features, driven by one latent, or hold a constant column or a
    duplicated feature: both modes finish without overflow or invalid values, and every r is
    finite except a constant target's (NaN, as Pearson r of a constant)."""
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n, bins = 60, 2
        F = int(rng.integers(6, 30))
        rank, N, components = int(rng.integers(1, F + 1)), int(rng.integers(1, 6)), int(rng.integers(1, F + 1))
        latent = rng.normal(size=(n, bins, rank))
        X = latent @ rng.normal(size=(rank, F)) + rng.choice([0.0, 50.0])
        Y = rng.normal(size=(n, bins, N))
        if kind == "exact":
            Y = latent[..., :min(rank, N)] @ rng.normal(size=(min(rank, N), N))
        elif kind == "one_latent":
            Y = latent[..., :1] @ rng.normal(size=(1, N)) + 0.1 * Y
        elif kind == "constant":
            Y[..., 0] = 3.0
        elif kind == "duplicate":
            X[..., 1] = X[..., 0]
        for mode in ("spantime", "perbin"):
            mapping = CrossValidatedMapping(X, brainscore_splits(n, n_splits=3), mode=mode, n_components=components)
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)
                r = mapping.correlations(Y, range(bins))
            finite = np.isfinite(r)
            if kind == "constant":
                assert not finite[:, 0].any() and finite[:, 1:].all()
            else:
                assert finite.all(), (seed, mode, F, rank, N, components)


@pytest.mark.parametrize("mode,bins", [("spantime", 1), ("spantime", 2), ("perbin", 3)])
def test_ridge_with_fewer_rows_than_features_uses_the_dual_form_and_equals_sklearn(mode, bins):
    """More features than stimuli x bins: the n x n (dual) system, from one Gram matrix shared by
    every split, gives sklearn's Ridge predictions (features far from zero mean), and the
    inner folds of the shift search agree with direct fits too."""
    rng = np.random.default_rng(11)
    n, features = 40, 120
    source = rng.normal(size=(n, bins, features)) + 20.0
    target = source[:, :, :4] @ rng.normal(size=(4, 3)) + rng.normal(size=(n, bins, 3))
    splits = brainscore_splits(n)
    mapping = CrossValidatedMapping(source, splits, mode=mode, regression="ridge", alpha=3.0)
    assert mapping.uses_dual(36, bins if mode == "spantime" else 1)
    groups = [list(range(bins))] if mode == "spantime" else [[t] for t in range(bins)]

    def direct(train, test):
        r = np.empty((3, bins))
        for group in groups:
            fit = Ridge(alpha=3.0).fit(source[train][:, group].reshape(-1, features),
                                       target[train][:, group].reshape(-1, 3))
            for t in group:
                r[:, t] = pearson_columns(fit.predict(source[test, t]), target[test, t])
        return r

    ours = mapping.correlations(target, range(bins))
    for k, (train, test) in enumerate(splits):
        np.testing.assert_allclose(ours[k], direct(train, test), atol=1e-9)
    folds = [brainscore_splits(len(train), n_splits=2) for train in splits.train]
    folds = [type(f)(tuple(train[t] for t in f.train), tuple(train[t] for t in f.test)) for f, train in zip(folds, splits.train)]
    inner = mapping.inner_correlations(target, range(bins), folds)
    np.testing.assert_allclose(inner[3, 1], direct(folds[3].train[1], folds[3].test[1]), atol=1e-9)


def test_mapping_rejects_bad_shapes_and_nan():
    mapping = CrossValidatedMapping(np.zeros((20, 2, 30)), brainscore_splits(20))
    with pytest.raises(ShapeError):
        mapping.correlations(np.zeros((19, 2, 3)), [0, 1])
    with pytest.raises(DataError, match="NaN"):
        mapping.correlations(np.full((20, 2, 3), np.nan), [0, 1])
    with pytest.raises(ShapeError, match="features"):
        CrossValidatedMapping(np.zeros((20, 2, 5)), brainscore_splits(20))


def test_power_method_stopped_by_max_iter_matches_sklearn_and_is_recorded():
    """Two nearly equal singular values of X'Y: the power method legitimately stops at max_iter
    (as scikit-learn's does, at the same iterate); the warning and the stats say by how much."""
    from sklearn.exceptions import ConvergenceWarning

    from neurovision.brain.linear import pls_fit

    rng = np.random.default_rng(5)
    X = np.linalg.qr(rng.normal(size=(120, 6)))[0] * 10
    Y = np.stack([X[:, 0] + X[:, 1], X[:, 0] - 0.99 * X[:, 1]], 1) + 1e-3 * rng.normal(size=(120, 2))
    xm, ym, C, S, YY = _moments(X, Y)
    with pytest.warns(ConvergenceWarning, match="Maximum number of iterations"):
        reference = PLSRegression(n_components=1, scale=False, max_iter=40).fit(X, Y)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=40 in 1 of 1 fits of component 1"):
        fit = pls_fit(C[None], S[None, None], np.diag(YY)[None, None], 1, max_iter=40)
    np.testing.assert_allclose((X - xm) @ fit.coef[0, 0] + ym, reference.predict(X), atol=1e-9)
    stats = fit.stats
    assert (stats.fits, stats.max_iter_reached) == (1, 1)
    assert stats.worst_change >= 1e-6 and 0.98 < stats.worst_gap < 1.0 and stats.worst_angle_deg > 0.1


def test_scores_record_how_the_power_iterations_ended():
    from neurovision.brain.scoring import ScoreConfig, score_arrays

    rng = np.random.default_rng(0)
    source = rng.normal(size=(60, 4, 30))
    target = source[:, :, :3] @ rng.normal(size=(3, 5)) + rng.normal(size=(60, 4, 5))
    config = ScoreConfig(shift=0, controls=(), n_components=5)
    results = score_arrays(source, np.arange(4)[None], target, [(10 * t, 10 * t + 10) for t in range(4)], config)
    assert results.attrs["pls_component_fits"] == 10 * 5  # 10 splits x 5 components
    assert results.attrs["pls_max_iter_reached"] == 0 and results.attrs["pls_worst_angle_deg"] == 0.0


def _step_by_step(G, a, g, max_iter, tol):
    """scikit-learn's power iteration written plainly, one normalised step and one test at a time:
    the final iterates and the fits that reached ``max_iter``."""
    pending = []
    for fit in range(len(a)):
        for _ in range(1, max_iter):
            h = G[fit] @ g[fit]
            norm = np.sqrt(g[fit] @ h)
            new_a, new_g = g[fit] / norm, h / norm
            moved = (new_a - a[fit]) @ (new_g - g[fit])
            a[fit], g[fit] = new_a, new_g
            if moved < tol:
                break
        else:
            pending.append(fit)
    return a, pending


@pytest.mark.parametrize("block", [1, 3, 16])
def test_blocked_power_iterations_stop_where_single_steps_stop(block):
    """Fits whose singular gaps range from wide (a few iterations) to nearly closed (stopped by
    max_iter, 37, not a multiple of the block): every fit ends on the same iterate as the plain
    loop, and the fits still running at max_iter (some, not all) are the ones reported."""
    from neurovision.brain.linear import _iterate

    rng = np.random.default_rng(3)
    gaps = np.array([0.2, 0.6, 0.9, 0.97, 0.995, 0.9999])
    G = np.empty((len(gaps), 5, 5))
    for i, gap in enumerate(gaps):
        U = np.linalg.qr(rng.normal(size=(5, 5)))[0]
        G[i] = (U * np.array([1.0, gap, 0.3 * gap, 0.1, 0.01]) * 1e6) @ U.T
    a = rng.normal(size=(len(gaps), 5))
    a /= np.sqrt(np.einsum("bi,bij,bj->b", a, G, a))[:, None]
    g = np.einsum("bij,bj->bi", G, a)
    expected, still_running = _step_by_step(G, a.copy(), g.copy(), 37, 1e-6)
    change = np.zeros(len(gaps))
    pending = _iterate(G, a, g, change, 37, 1e-6, block=block)
    np.testing.assert_allclose(a, expected, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(g, np.einsum("bij,bj->bi", G, a), rtol=1e-9)
    assert 0 < len(still_running) < len(gaps) and list(pending) == still_running
    stopped = np.setdiff1d(np.arange(len(gaps)), pending)
    assert (change[pending] >= 1e-6).all() and (change[stopped] < 1e-6).all()
