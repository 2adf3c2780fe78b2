"""Sweeps on Dask distributed: equal to serial scoring, resumable, robust to a killed worker."""
import os
import time

import numpy as np
import pytest
import xarray as xr

from neurovision.cli import main

PLANTED = """
from neurovision import benchmark_registry


def _planted(latency, n_bins, n_neuroids):
    import torch

    from neurovision.brain.synthetic import TwoTimescaleModel, planted_benchmark

    images = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    bins = [(10.0 * i, 10.0 * (i + 1)) for i in range(n_bins)]
    return planted_benchmark(TwoTimescaleModel(units=8), "out", images, latency, bins,
                             n_neuroids=n_neuroids, n_repetitions=2, n_objects=4)


benchmark_registry["tiny.fast"] = lambda: _planted(20.0, 6, 6)
benchmark_registry["tiny.slow"] = lambda: _planted(10.0, 4, 9)
"""
MODEL = """
from neurovision import model_registry


def _model():
    from neurovision.brain.synthetic import TwoTimescaleModel

    return TwoTimescaleModel(units=8)


model_registry["two-timescale"] = _model
"""
ARGS = ["sweep", "--models", "two-timescale,leaky-linear", "--benchmarks", "tiny.fast,tiny.slow",
        "--areas", "out,rate", "--shift", "0", "--controls", "temporal", "--n-splits", "3",
        "--n-components", "5", "--quiet"]


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    import neurovision
    from neurovision import registry

    monkeypatch.setattr(registry, "_extra_folders", list(registry._extra_folders))  # restored afterwards,
    for table in (registry.model_registry, registry.task_registry, registry.benchmark_registry):  # so the
        table.discover()  # planted ids leave no trace in later tests
        for name in ("_factories", "_descriptions", "_origins"):
            monkeypatch.setattr(table, name, getattr(table, name).copy())
    for kind, name, text in (("benchmarks", "tiny_planted", PLANTED), ("models", "two_timescale", MODEL)):
        folder = tmp_path / "plugins" / kind / name
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
    monkeypatch.setenv("NEUROVISION_PLUGIN_PATH", str(tmp_path / "plugins"))  # workers inherit it
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    neurovision.add_plugin_folder(tmp_path / "plugins")
    return tmp_path / "plugins"


def _options():
    from neurovision.cli.sweep import options_of, register
    import argparse

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return options_of(parser.parse_args([*ARGS, "--out", "unused.nc"]))


def _serial(jobs, options):
    from neurovision.sweeps.engine import score_job
    from neurovision.sweeps.merge import merge

    return merge([score_job(job, options) for job in jobs], jobs)


def _jobs():
    from neurovision.sweeps.jobs import plan

    return plan(["two-timescale", "leaky-linear"], ["tiny.fast", "tiny.slow"], ["out", "rate"], [0])


def _same(a: xr.Dataset, b: xr.Dataset):
    """Every variable of ``b`` (coordinates included) equal in ``a``, position by position."""
    a, b = a.reset_coords(), b.reset_coords()
    assert set(b.data_vars) <= set(a.data_vars) and len(b.data_vars) > 10
    for name in b.data_vars:
        if name == "job_attrs":
            continue
        left, right = a[name].transpose(*b[name].dims).values, b[name].values
        if right.dtype.kind in "fc":
            np.testing.assert_allclose(left, right, atol=1e-12, err_msg=name)
        else:
            np.testing.assert_array_equal(left.astype(str), right.astype(str), err_msg=name)


@pytest.mark.slow
def test_two_local_workers_equal_serial_and_a_rerun_reads_the_cache(plugins, tmp_path, capsys):
    out = tmp_path / "sweep.nc"
    assert main([*ARGS, "--workers", "2", "--out", str(out)]) == 0
    swept = xr.open_dataset(out).load()
    assert swept.attrs["workers"] == 2 and swept.attrs["jobs_computed"] == 4
    assert list(swept.model.values) == ["two-timescale", "two-timescale", "leaky-linear", "leaky-linear"]
    serial = _serial(_jobs(), _options())
    _same(swept, serial)
    assert (swept.overall_score.values > 0.2).all()  # the planted signal is found in every job
    assert main([*ARGS, "--workers", "1", "--out", str(tmp_path / "again.nc"), "--cache", str(out) + ".cache"]) == 0
    again = xr.open_dataset(tmp_path / "again.nc").load()
    assert again.attrs["jobs_computed"] == 0 and again.attrs["jobs_cached"] == 4
    _same(again, swept)


KILLER = '''
import os
from pathlib import Path

from neurovision.sweeps.engine import score_job


def kill_worker_once(job, options, marker):
    """Score ``job``, but kill this worker process the first time job 2 arrives."""
    if job.index == 2 and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)
    return score_job(job, options)
'''


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_no_finished_result(plugins, tmp_path, monkeypatch):
    import functools
    import importlib

    from neurovision.sweeps.cache import ResultCache
    from neurovision.sweeps.engine import connect, run_jobs
    from neurovision.sweeps.jobs import job_key

    (tmp_path / "sweep_killer.py").write_text(KILLER)  # importable by the worker processes too
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.syspath_prepend(str(tmp_path))
    killer = importlib.import_module("sweep_killer")
    jobs, options = _jobs(), _options()
    cache = ResultCache(tmp_path / "cache")
    marker = tmp_path / "killed"
    client, cluster = connect(None, workers=2)
    try:
        report = run_jobs(jobs, options, cache, client, retries=0,
                          function=functools.partial(killer.kill_worker_once, marker=str(marker)))
    finally:
        client.close()
        cluster.close()
    assert marker.exists() and not report.failed and sorted(report.computed) == [0, 1, 2, 3]
    from neurovision.sweeps.merge import merge

    _same(merge([cache.get(job_key(j, options)) for j in jobs], jobs), _serial(jobs, options))


def test_unreachable_scheduler_fails_fast_and_suggests_the_local_default(plugins, tmp_path, capsys):
    start = time.perf_counter()
    code = main([*ARGS, "--out", str(tmp_path / "s.nc"), "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "2"])
    assert code == 1 and time.perf_counter() - start < 30
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s" in err and "local cluster" in err


TRAIN = ["sweep", "train-task", "--tasks", "perceptual-decision-making,context-decision-making",
         "--backends", "full,low-rank:2", "--units", "12", "--train-steps", "20", "--batch-size", "8",
         "--eval-trials", "40", "--quiet"]
EXECUTION = ("feature_seconds", "train_seconds", "cache_dir")  # where and how fast, not what


@pytest.fixture
def one_thread(monkeypatch):
    """Serial training in this process with the one torch thread of a sweep worker."""
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # inherited by the worker processes
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _result(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in EXECUTION}


@pytest.mark.slow
def test_training_sweep_on_two_workers_equals_serial_training_and_a_rerun_reads_the_cache(one_thread, tmp_path):
    import functools
    import json

    import pandas as pd

    from neurovision.cli import build_parser
    from neurovision.cli.train_task import task_run
    from neurovision.sweeps.engine import train_job
    from neurovision.sweeps.jobs import plan_training

    out = tmp_path / "sweep"
    assert main([*TRAIN, "--workers", "2", "--out", str(out)]) == 0
    table = pd.read_csv(out / "accuracy.csv")
    assert json.loads((out / "sweep.json").read_text())["jobs_computed"] == 4
    assert list(zip(table.task, table.backend, table.seed)) == [
        ("perceptual-decision-making", "full", 0), ("perceptual-decision-making", "low-rank:2", 0),
        ("context-decision-making", "full", 0), ("context-decision-making", "low-rank:2", 0)]
    args = build_parser().parse_args([*TRAIN, "--out", str(out)])
    jobs = plan_training(args.tasks.split(","), args.backends.split(","), [0], functools.partial(task_run, args))
    summaries = []
    for job, row in zip(jobs, table.itertuples()):
        serial = train_job(job, {"device": "cpu", "cache_dir": None})
        swept = out / row.run_folder
        assert _result(json.loads(serial["evaluation.json"])) == _result(json.loads((swept / "evaluation.json").read_text()))
        assert serial["trials.csv"] == (swept / "trials.csv").read_bytes()  # every trial's choice and RT
        trials = pd.read_csv(swept / "trials.csv")
        assert row.accuracy == trials.correct.sum() / trials.responded.sum() == json.loads(serial["evaluation.json"])["accuracy"]
        assert json.loads(serial["evaluation.json"])["run"]["units"] == 12 and row.train_steps == 20
        summaries.append(json.dumps(_result(json.loads(serial["evaluation.json"])), sort_keys=True))
    assert len(set(summaries)) == 4  # each job trained its own task, back-end and seed
    again = tmp_path / "again"
    assert main([*TRAIN, "--workers", "1", "--out", str(again), "--cache", str(out / "runs")]) == 0
    assert json.loads((again / "sweep.json").read_text())["jobs_cached"] == 4
    assert json.loads((again / "sweep.json").read_text())["jobs_computed"] == 0
    rerun = pd.read_csv(again / "accuracy.csv")
    pd.testing.assert_frame_equal(rerun.drop(columns="run_folder"), table.drop(columns="run_folder"))


def test_a_bad_task_id_lists_close_ids_before_any_job_starts(tmp_path, monkeypatch, capsys):
    import neurovision.sweeps.engine as engine

    def refuse(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(engine, "connect", refuse)
    args = [*TRAIN, "--out", str(tmp_path / "s")]
    args[args.index("--tasks") + 1] = "perceptual-decision-making,context-decison-making"
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "unknown task id 'context-decison-making'. Did you mean: context-decision-making" in err
    args[args.index("--tasks") + 1], args[args.index("--backends") + 1] = "perceptual-decision-making", "full,lowrank"
    assert main(args) == 1
    assert "unknown back-end kind id 'lowrank'. Did you mean: low-rank?" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
