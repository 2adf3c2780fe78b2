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
                         config=ScoreConfig(shifts="20:60:20", n_permutations=3))
    return model, benchmark, result


def test_results_hold_every_quantity(small):
    _, _, result = small
    ds = result.squeeze("region")
    assert ds["score"].dims == ("time_bin",) and ds.sizes["time_bin"] == 8
    for name in ("ceiling", "normalized_score", "score_error"):
        assert ds[name].dims == ("time_bin",)
    assert ds["control_score"].dims == ("control", "time_bin") and list(ds["control"].values) == ["temporal", "image"]
    assert ds["p_value"].dims == ("control", "time_bin") and ds["r"].dims == ("split", "neuroid", "time_bin")
    assert ds.sizes["permutation"] == 3 and 0 < ds.attrs["permutation_p_value"] <= 1
    assert ds.attrs["shift_ms"] == 40 and ds.attrs["area"] == "out"
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
    assert "temporal ctl" in table and "temporal shift: 40 ms" in table and table.count("\n") >= 10
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

    assert main(["score", "leaky-linear", "cowley2023.V4", "--area", "rate", "--shift", "0",
                 "--controls", "image", "--quiet", "--out", str(tmp_path / "cli")]) == 0
    assert "cowley2023.V4 region V4 <- area rate" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "cli").iterdir()} == {"results.nc", "figure.png", "table.txt"}
    assert main(["score", "leaky-linear", "no-such-benchmark", "--out", str(tmp_path / "x")]) == 1
    assert "unknown benchmark id" in capsys.readouterr().err
    assert main(["score", "leaky-linear", "cowley2023.V4", "--time-bins", "0:100:50", "--out", str(tmp_path / "x")]) == 1
    assert "not tiled" in capsys.readouterr().err
    assert demo.main(["--out", str(tmp_path / "demo"), "--model", "leaky-linear", "--area", "rate",
                      "--shifts", "0", "--permutations", "2", "--quiet"]) == 0
    assert load_results(tmp_path / "demo" / "results.nc").attrs["benchmark"] == "cowley2023.V4"


def test_area_chosen_on_held_out_stimuli_is_scored_on_the_others(small):
    model, benchmark, _ = small
    result = score_model(model, benchmark, area="auto", progress=False, selection_fraction=0.1,
                         config=ScoreConfig(shift=40, controls=()))
    assert result.attrs["area"] == "out" and "out" in result.attrs["area_selection"]
    assert result.attrs["n_stimuli"] == 72  # 8 of the 80 stimuli chose the area
