"""Model beside baselines and untrained controls; the scoreboard's resume, table and figure."""
import numpy as np
import pytest

from neurovision.brain.scoring import ScoreConfig, score_arrays
from neurovision.brain.synthetic import planted_arrays
from neurovision.errors import DataError, NeurovisionError
from neurovision.families.baselines import scoreboard as board
from neurovision.families.baselines.side_by_side import (assemble, check_baselines, format_side_by_side,
                                                         minimum_stimuli)

CONFIG = ScoreConfig(regression="ridge", shift=0, controls=("image",), n_permutations=19)
BINS = [(0.0, 50.0), (50.0, 100.0)]


@pytest.fixture(scope="module")
def planted():
    """Neurons driven by a latent; features: latent + little noise (good), + more noise (baselines), pure noise."""
    data = planted_arrays(n_stimuli=120, n_features=8, n_bins=2, n_neuroids=12, signal=2.0, model_noise=0.0, seed=3)
    rng = np.random.default_rng(7)
    latent, target = data["latent"], data["target"]
    sources = {"good": latent + 0.2 * rng.normal(size=latent.shape),
               "baseline-gabor-v1": latent + 1.5 * rng.normal(size=latent.shape),
               "baseline-pixels": latent + 3.0 * rng.normal(size=latent.shape),
               "noise": rng.normal(size=latent.shape)}
    for seed in range(3):
        sources[f"good.untrained-seed{seed}"] = latent + 2.5 * rng.normal(size=latent.shape)
    index = np.arange(2)[None]
    return {name: score_arrays(src, index, target, BINS, CONFIG,
                               attrs={"model": name, "benchmark": "planted", "area": "out"})
            for name, src in sources.items()}


def _base(results):
    return {b: results[b] for b in ("baseline-pixels", "baseline-gabor-v1")}


def test_side_by_side_has_every_row_and_the_difference_column(planted):
    seeds = [planted[f"good.untrained-seed{s}"] for s in range(3)]
    table = assemble(planted["good"], _base(planted), seeds)
    assert list(table["row"].values) == ["good", "baseline-pixels", "baseline-gabor-v1", "untrained (3 seeds)",
                                         "image-shuffled"]
    assert table.attrs["best_baseline"] == "baseline-gabor-v1"
    scores = [planted[f"good.untrained-seed{s}"]["score"].values[0] for s in range(3)]
    np.testing.assert_allclose(table["score"].sel(row="untrained (3 seeds)"), np.mean(scores, 0))
    np.testing.assert_allclose(table["score_sd"].sel(row="untrained (3 seeds)"), np.std(scores, 0, ddof=1))
    np.testing.assert_allclose(table["score"].sel(row="image-shuffled"), planted["good"]["null_mean"].values[0])
    text = format_side_by_side(table)
    assert "model - baseline-gabor-v1" in text and "95 % CI" in text and "untrained (3 seeds)" in text
    assert "corrected resampled t" in text and len(text.splitlines()) == 2 + 2 + 1 + 2


def test_planted_better_model_beats_the_best_baseline_with_a_ci_above_zero(planted):
    table = assemble(planted["good"], _base(planted), [])
    assert table.attrs["verdict"] == "A better"
    assert table.attrs["overall_difference"] > 0 and table.attrs["overall_ci_low"] > 0
    assert (table["ci_low"].values > 0).all()
    assert table.attrs["overall_p_value"] < 0.05


def test_noise_features_are_not_reported_as_beating_the_best_baseline(planted):
    table = assemble(planted["noise"], _base(planted), [])
    assert table.attrs["verdict"] != "A better"
    assert table.attrs["overall_ci_low"] < 0 and table.attrs["overall_difference"] < 0


def test_bad_input_is_explained():
    with pytest.raises(NeurovisionError, match="closest: baseline-gabor-v1"):
        check_baselines(["baseline-gabor"])
    assert minimum_stimuli(ScoreConfig(n_permutations=0)) == 21  # 21 - floor(0.9 * 21) = 3 test stimuli
    assert minimum_stimuli(ScoreConfig(n_permutations=100, train_size=0.5)) == 6  # 5! = 120 > 100
    from neurovision.brain.benchmark import TemporalBenchmark
    from neurovision.families.baselines import image_benchmark
    from neurovision.families.baselines.side_by_side import check_stimuli

    class Tiny(TemporalBenchmark):
        def __init__(self):
            pass

        identifier = "tiny"

        def responses(self):
            import xarray as xr
            return xr.DataArray(np.zeros((12, 2, 1)), dims=("presentation", "neuroid", "time_bin"))

    with pytest.raises(DataError, match=">= 21 stimuli"):
        check_stimuli(Tiny(), ScoreConfig(n_permutations=19))

    class Decoding:
        identifier = "decoding.IT"

    with pytest.raises(DataError, match="without the images"):
        image_benchmark(Decoding())


def _entries(planted, calls, stop_at=None):
    names = ["baseline-pixels", "baseline-gabor-v1", "good", "good.untrained-seed0", "good.untrained-seed1",
             "noise"]
    kinds = ["baseline", "baseline", "trained", "untrained", "untrained", "trained"]

    def scorer(name):
        def score():
            if name == stop_at:
                raise KeyboardInterrupt
            calls.append(name)
            return planted[name].copy()
        return score

    return [board.Entry(n, k, "" if k == "baseline" else n.split(".")[0], scorer(n)) for n, k in zip(names, kinds)]


def test_scoreboard_resumes_without_recomputing_finished_entries(planted, tmp_path):
    calls = []
    with pytest.raises(KeyboardInterrupt):
        board.compute(_entries(planted, calls, stop_at="good.untrained-seed0"), "planted", tmp_path, {"a": 1},
                      log=lambda _: None)
    assert calls == ["baseline-pixels", "baseline-gabor-v1", "good"]
    assert sorted(p.name for p in (tmp_path / "planted").iterdir()) == ["baseline-gabor-v1.nc", "baseline-pixels.nc",
                                                                        "good.nc"]  # nothing half-written
    calls.clear()
    entries = _entries(planted, calls)
    results = board.compute(entries, "planted", tmp_path, {"a": 1}, log=lambda _: None)
    assert calls == ["good.untrained-seed0", "good.untrained-seed1", "noise"]
    calls.clear()
    board.compute(entries, "planted", tmp_path, {"a": 1}, log=lambda _: None)
    assert calls == []
    board.compute(entries, "planted", tmp_path, {"a": 2}, log=lambda _: None)  # other settings: scored again
    assert len(calls) == len(entries)
    rows = board.summarise("planted", entries, results, "ridge; 19 permutations")
    assert [(r["model"], r["kind"]) for r in rows] == [("baseline-pixels", "baseline"), ("baseline-gabor-v1", "baseline"),
                                                       ("good", "trained"), ("noise", "trained")]
    good, noise = rows[2], rows[3]
    assert good["minus_best_ci_low"] > 0 and noise["minus_best_ci_high"] < 0 and good["best_baseline"] == "baseline-gabor-v1"
    assert good["minus_untrained_ci_low"] > 0 and np.isnan(noise.get("minus_untrained", np.nan))
    csv_path = tmp_path / "scoreboard.csv"
    board.write_csv(rows, csv_path)
    back = board.read_csv(csv_path)
    assert list(back[0]) == list(board.COLUMNS) and float(back[2]["score"]) == pytest.approx(good["score"], abs=1e-4)
    table = board.markdown(back)
    assert table.count("\n") == 1 + len(rows) and "+0." in table and "(vs baseline-gabor-v1)" in table
    board.save_figure(back, tmp_path / "scoreboard.png")
    assert (tmp_path / "scoreboard.png").stat().st_size > 1000


def test_trained_front_ends_are_matched_by_pattern():
    ids = ["cordsnet-r2", "cordsnet-r2-cifar10", "cordsnet-r2-cifar10-linear", "baseline-pixels", "dcn-ode",
           "dcn-ode-cifar10", "recurrent-resnet", "recurrent-resnet-cifar-w8-pcr", "hgru-pathfinder",
           "hgru-pathfinder4-bptt"]
    assert board.trained_front_ends(ids) == ["cordsnet-r2-cifar10", "cordsnet-r2-cifar10-linear", "dcn-ode-cifar10",
                                             "hgru-pathfinder4-bptt", "recurrent-resnet-cifar-w8-pcr"]


def test_groups_write_baselines_first_then_each_model_with_its_seeds(planted):
    entries = _entries(planted, [])
    assert [[e.identifier for e in g] for g in board.groups(entries)] == [
        ["baseline-pixels", "baseline-gabor-v1"], ["good", "good.untrained-seed0", "good.untrained-seed1"], ["noise"]]
    rows = board.pending_rows("planted", ["noise"], {"cordsnet-r8-imagenet": "not scored: no weights"}, "s")
    assert [(r["model"], r["status"].split(":")[0]) for r in rows] == [("noise", "pending"),
                                                                       ("cordsnet-r8-imagenet", "not scored")]


def test_feed_forward_checkpoints_enter_the_scoreboard_with_their_untrained_seeds():
    from types import SimpleNamespace

    import neurovision
    from neurovision.families.baselines.checkpoint_controls import untrained_for
    from neurovision.families.baselines.static import as_time_stepped

    skipped = {}
    model_id = "recurrent-resnet-cifar-w8-pcr"
    entries = board.entries([model_id], SimpleNamespace(region="V4"), CONFIG, n_seeds=2, baselines=(), skipped=skipped)
    assert skipped == {} and [(e.identifier, e.kind, e.of) for e in entries] == [
        (model_id, "trained", model_id), (f"{model_id}.untrained-seed0", "untrained", model_id),
        (f"{model_id}.untrained-seed1", "untrained", model_id)]
    trained = as_time_stepped(neurovision.load_model(model_id))
    control = as_time_stepped(untrained_for(model_id, 1)[0]())
    assert control.area_shape("features") == trained.area_shape("features") == (32, 8, 8)
    assert not np.allclose(control.blank.numpy(), trained.blank.numpy())  # other weights, same architecture
