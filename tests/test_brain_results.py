"""Results Dataset, NetCDF round trip, table, figure, CLI and demo entry points, and bad input."""
import numpy as np
import pytest
import torch

from neurovision.brain.benchmark import TemporalBenchmark
from neurovision.brain.results import combine, format_table, load_results, save_results
from neurovision.brain.scoring import ScoreConfig, score_model
from neurovision.brain.synthetic import TwoTimescaleModel, planted_benchmark
from neurovision.cli import main
from neurovision.errors import CorruptFileError, DataError, ScheduleError, UnknownIdError

BINS = [(float(s), s + 20.0) for s in range(0, 160, 20)]


@pytest.fixture(scope="module")
def small():
    model = TwoTimescaleModel(units=16)
    images = torch.rand(80, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    benchmark = planted_benchmark(model, "out", images, latency_ms=40, bins=BINS, n_neuroids=12, n_objects=8)
    result = score_model(model, benchmark, area="out", progress=False,
                         config=ScoreConfig(shifts="20:60:20", n_permutations=19))
    return model, benchmark, result


def test_results_hold_every_quantity(small):
    _, _, result = small
    ds = result.squeeze("region")
    assert ds["score"].dims == ("time_bin",) and ds.sizes["time_bin"] == 8
    for name in ("ceiling", "normalized_score", "score_error"):
        assert ds[name].dims == ("time_bin",)
    for name in ("null_mean", "null_sd", "p_value", "p_value_unadjusted", "mismatched_score", "time_specificity"):
        assert ds[name].dims == ("time_bin",)
    assert ds["null_score"].dims == ("permutation", "time_bin") and ds.sizes["permutation"] == 19
    assert ds["pairing_score"].dims == ("pairing", "time_bin") and ds.sizes["pairing"] == 19
    assert ds["r"].dims == ("split", "neuroid", "time_bin") and ds["test_stimulus"].shape == (10, 8)
    assert ds.attrs["permutation_p_value"] == pytest.approx(0.05)  # the planted map beats all 19 draws
    assert np.all(ds["p_value"] >= ds["p_value_unadjusted"]) and ds.attrs["any_bin_significant"] == 1
    assert ds.attrs["shift_ms"] == 40 and ds.attrs["area"] == "out" and ds.attrs["shift_identified"] == 1
    assert ds["alignment_curve"].dims == ("shift_candidate",) and ds.sizes["fold"] == 3
    assert "t_statistic" not in ds and "overall_p_value" not in ds.attrs
    with np.errstate(invalid="ignore"):
        expected = np.where(ds["ceiling"] >= 0.1, ds["score"] ** 2 / ds["ceiling"], np.nan)
    np.testing.assert_allclose(ds["normalized_score"], expected)


def test_netcdf_round_trip_and_table(small, tmp_path):
    _, _, result = small
    path = save_results(result, tmp_path / "results.nc")
    back = load_results(path)
    for name, variable in result.data_vars.items():
        np.testing.assert_allclose(back[name].values, variable.values, equal_nan=True)
    assert back.attrs["overall_score"] == pytest.approx(result.attrs["overall_score"])
    assert back.attrs["config"] == result.attrs["config"]
    table = format_table(back)
    assert "null mean" in table and "match-mism." in table and "temporal shift: 40 ms" in table
    assert "rank among 19 re-pairings" in table and table.count("\n") >= 12
    (tmp_path / "junk.nc").write_bytes(b"not netcdf")
    with pytest.raises(CorruptFileError):
        load_results(tmp_path / "junk.nc")


def test_combine_regions(small):
    _, _, result = small
    other = result.assign_coords(region=["V4"])
    both = combine([result, other])
    assert list(both["region"].values) == ["IT", "V4"] and both["score"].dims == ("region", "time_bin")


def test_figure_is_written(small, tmp_path):
    from neurovision.brain.figure import save_figure

    _, _, result = small
    path = save_figure(result, tmp_path / "figure.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_gives_clear_errors(small):
    model, benchmark, _ = small
    wrong_ids = TemporalBenchmark("bad", "IT", benchmark.recording, lambda: (torch.rand(80, 1, 8, 8), [f"x{i}" for i in range(80)]),
                                  8.0, 100.0)
    with pytest.raises(DataError, match="do(es)? not match"):
        wrong_ids.stimuli()
    with pytest.raises(UnknownIdError, match="area"):
        score_model(model, benchmark, area="V9", progress=False)
    with pytest.raises(ScheduleError, match="before the presentation"):
        score_model(model, benchmark, area="out", blank_before_ms=10, progress=False,
                    config=ScoreConfig(shift=50))
    nan = benchmark.recording.copy()
    nan.values[nan["stimulus_id"].values == "planted0003", 2] = np.nan
    holed = TemporalBenchmark("nan", "IT", nan, benchmark.load_stimuli, 8.0, 100.0)
    with pytest.raises(DataError, match="drop-neuroids"):
        score_model(model, holed, area="out", progress=False, config=ScoreConfig(shift=40))
    dropped = score_model(model, holed, area="out", progress=False,
                          config=ScoreConfig(shift=40, nan_policy="drop-neuroids", controls=()))
    assert dropped.sizes["neuroid"] == 11 and dropped.attrs["n_neuroids_dropped"] == 1
    tiny = benchmark.subset([f"planted{i:04d}" for i in range(3)])
    with pytest.raises(DataError, match="too few|strat"):
        score_model(model, tiny, area="out", progress=False, config=ScoreConfig(shift=40))


def test_score_command_and_demo(tmp_path, capsys):
    from neurovision import demo

    assert main(["score", "leaky-linear", "cowley2023.V4", "--area", "rate", "--shift", "0", "--regression",
                 "ridge", "--permutations", "19", "--quiet", "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "cowley2023.V4 region V4 <- area rate" in out and "image-shuffled null, 19 draws" in out
    assert "not applicable here: temporal" in out
    assert {"results.nc", "figure.png", "table.txt"} <= {p.name for p in (tmp_path / "cli").iterdir()}
    assert main(["score", "leaky-linear", "no-such-benchmark", "--out", str(tmp_path / "x")]) == 1
    assert "unknown benchmark id" in capsys.readouterr().err
    assert main(["score", "leaky-linear", "cowley2023.V4", "--time-bins", "0:100:50", "--out", str(tmp_path / "x")]) == 1
    assert "not tiled" in capsys.readouterr().err
    assert main(["score", "leaky-linear", "cowley2023.V4", "--permutations", "5", "--out", str(tmp_path / "x")]) == 1
    assert "use >= 19" in capsys.readouterr().err
    assert demo.main(["--out", str(tmp_path / "demo"), "--model", "leaky-linear", "--area", "rate",
                      "--shifts", "0", "--permutations", "19", "--quiet"]) == 0
    assert load_results(tmp_path / "demo" / "results.nc").attrs["benchmark"] == "cowley2023.V4"


def test_area_chosen_on_held_out_stimuli_is_scored_on_the_others(small):
    model, benchmark, _ = small
    result = score_model(model, benchmark, area="auto", progress=False, selection_fraction=0.1,
                         config=ScoreConfig(shift=40, controls=()))
    assert result.attrs["area"] == "out" and "out" in result.attrs["area_selection"]
    assert result.attrs["n_stimuli"] == 72  # 8 of the 80 stimuli chose the area
