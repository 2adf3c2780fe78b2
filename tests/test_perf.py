"""The performance harness, the results table and the speed levers' equivalence with the defaults."""
import json
import sys
from pathlib import Path

import pytest
import torch

import neurovision
from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

sys.path.insert(0, str(Path(neurovision.__file__).resolve().parents[1]))  # perf/ lives beside the package
from perf import _harness, run_all  # noqa: E402
from perf.levers import fused_step, relative_difference, run_steps  # noqa: E402


def test_stats_and_formatting():
    stats = _harness.Stats.of([3.0, 1.0, 2.0], "s")
    assert (stats.median, stats.min, stats.max) == (2.0, 1.0, 3.0)
    assert _harness.format_value(stats.as_dict()) == "2 [1–3] s"
    assert _harness.format_value(12345.0) == "12345"
    assert _harness.slope([1.0, 3.0, 5.0]) == pytest.approx(2.0)
    assert _harness.slope([4.0, 4.0, 4.0], [0, 10, 20]) == 0.0


def test_compare_reports_the_faster_candidate():
    work = torch.randn(300, 300)
    cmp = _harness.compare(lambda: work[:50, :50] @ work[:50, :50],
                           lambda: [work @ work for _ in range(4)], repeats=3)
    assert cmp.speedup.median > 1.5
    assert set(cmp.metrics("mm")) == {"mm_speedup", "mm_best_speedup", "mm_seconds", "mm_reference_seconds"}
    assert cmp.best_speedup > 1.5


def test_peak_memory_sees_a_large_allocation():
    mib = _harness.peak_memory(lambda: torch.ones(40 * 2**20 // 4).add_(1))
    assert 30 < mib < 200


def test_results_json_and_table(tmp_path, monkeypatch):
    path = _harness.write_result("demo", {"speed": _harness.Stats.of([2, 3, 4], "x"), "mib": 12.5,
                                          "stages": {"fit_seconds": 1.5, "fit_share": 0.25}}, 3,
                                 notes="n", folder=tmp_path)
    record = json.loads(path.read_text())
    assert set(record) >= {"name", "machine", "versions", "metrics", "repeats"}
    assert record["versions"]["torch"] and record["machine"]["cpu_count"]
    doc = tmp_path / "performance.md"
    doc.write_text("# Perf\n\nintro\n\n<!-- perf-table:start -->\nold\n<!-- perf-table:end -->\n\nafter\n")
    run_all.update_doc(run_all.table(run_all.load_results(tmp_path)), doc)
    text = doc.read_text()
    assert "old" not in text and text.startswith("# Perf\n\nintro") and text.endswith("after\n")
    assert "| demo | speed | 3 [2–4] x | 3 |" in text and "| demo | mib | 12.5 |" in text
    assert "| demo | stages.fit_seconds | 1.5 | 3 |" in text and "| demo | stages.fit_share | 0.25 | 3 |" in text


def test_quick_results_give_way_to_full_ones():
    records = [{"name": "a_quick"}, {"name": "a"}, {"name": "b_quick"}]
    assert [r["name"] for r in run_all.prefer_full(records)] == ["a", "b_quick"]


def test_every_perf_script_has_a_main():
    import importlib

    for name in run_all.scripts():
        module = importlib.import_module(f"perf.{name}")
        assert callable(getattr(module, "main", None)), name


@pytest.mark.parametrize("depth", [2, 4])
def test_fused_step_equals_the_default_step(depth):
    torch.manual_seed(depth)
    model = CordsNet(CordsNetConfig(depth=depth, image_size=16, n_classes=5)).eval()
    with torch.no_grad():
        for p in model.bias:
            p.normal_(0, 0.3)
        state = {k: torch.randn_like(v.expand(2, *v.shape[1:]).contiguous())
                 for k, v in model.initial_state(1).items()}
        drive = model.encode(torch.rand(2, 3, 16, 16))
        for blank in (drive, None):
            want = run_steps(model.step, state, blank, 3)[0]
            got = run_steps(fused_step(model), state, blank, 3)[0]
            assert relative_difference(got, want) < 1e-5



@pytest.mark.parametrize("argv, message", [
    (["--repeats", "0"], "--repeats: must be >= 1, got 0"),
    (["--repeats", "-2"], "--repeats: must be >= 1, got -2"),
    (["--images", "-5"], "--images: must be >= 1, got -5"),
    (["--features", "many"], "--features: expected a whole number >= 1, got 'many'"),
])
def test_perf_scripts_refuse_zero_repeats_and_bad_sizes(argv, message, capsys):
    from perf import scoring_spantime

    with pytest.raises(SystemExit) as stop:
        scoring_spantime.main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_every_script_refuses_zero_repeats(capsys, monkeypatch):
    import importlib

    monkeypatch.setattr(sys, "argv", ["perf", "--repeats", "0"])
    harnessed = [n for n in run_all.scripts() if "parser(__doc__" in (run_all.PERF / f"{n}.py").read_text()]
    assert {"scoring_spantime", "dynvision", "cordsnet_step", "levers"} <= set(harnessed)
    for name in harnessed:
        with pytest.raises(SystemExit) as stop:
            importlib.import_module(f"perf.{name}").main()
        assert stop.value.code == 2, name
        assert "must be >= 1" in capsys.readouterr().err, name


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the skip on machines without a GPU")
def test_cuda_without_gpu_skips_cleanly(tmp_path, monkeypatch, capsys):
    from perf import levers

    monkeypatch.setattr(_harness, "RESULTS", tmp_path)
    with pytest.raises(SystemExit) as stop:
        levers.main(["--device", "cuda", "--quick"])
    assert stop.value.code == 0
    assert "no CUDA device" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


def test_blas_thread_check_names_a_library_the_limit_missed(monkeypatch):
    import threadpoolctl

    with threadpoolctl.threadpool_limits(1):
        seen = _harness.check_blas_threads(1)
    assert seen and set(seen.values()) == {1}  # numpy's and scipy's BLAS, both limited
    late = {"user_api": "blas", "internal_api": "openblas", "filepath": "/lib/libscipy_openblas.so", "num_threads": 2}
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: [late])
    with pytest.raises(RuntimeError, match="libscipy_openblas.so.*loaded after the limit"):
        _harness.check_blas_threads(1)


def test_scoring_profile_refuses_more_than_one_thread(capsys):
    """cProfile sees only its own thread; per-bin batches on two threads would run elsewhere."""
    from perf import scoring_spantime

    with pytest.raises(SystemExit):
        scoring_spantime.main(["--quick", "--profile", "--threads", "2"])
    assert "needs --threads 1" in capsys.readouterr().err


def test_scoring_profile_splits_each_mode_into_its_stages(tmp_path, monkeypatch):
    """The profiled runs say where each mode's time goes, and are not counted in the timed
    runs' PLS statistics (one timed repeat: 10 span-time and 5 bins x 10 per-bin fits of 25)."""
    from perf import scoring_spantime

    monkeypatch.setattr(_harness, "RESULTS", tmp_path)
    scoring_spantime.main(["--quick", "--repeats", "1", "--reference-repeats", "0", "--profile"])
    profile = json.loads((tmp_path / "scoring_spantime_profile_quick.json").read_text())["metrics"]
    record = json.loads((tmp_path / "scoring_spantime_floor_quick.json").read_text())
    timed = record["metrics"]
    assert record["config"]["blas_threads"] and set(record["config"]["blas_threads"].values()) == {1}
    assert timed["pls_component_fits"] == (10 + 5 * 10) * 25
    span, perbin = profile["spantime"], profile["perbin"]
    parts = ("moments", "pls_fits", "predictions", "correlations")
    assert all(span[f"{p}_seconds"] > 0 for p in parts)
    assert sum(span[f"{p}_share"] for p in parts) <= 1.0
    inside = sum(perbin[f"{p}_seconds"] for p in ("power_iterations", "c_products", "s_passes"))
    assert 0 < inside <= perbin["pls_fits_seconds"] <= perbin["wall_seconds"]
    assert profile["floor_seconds"] > 0
