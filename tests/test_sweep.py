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
