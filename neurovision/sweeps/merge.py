"""Collect finished job results: scores stacked into one Dataset along ``job``, trainings into one table."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xarray as xr

from .jobs import Job, TrainJob


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _positional(result: xr.Dataset) -> xr.Dataset:
    """Non-index coordinates become variables and unindexed dims get 0..n-1, so jobs with
    different neuroids or bins stack by position (padded), each keeping its own ids and times."""
    result = result.reset_coords([c for c in result.coords if c not in result.dims])
    return result.assign_coords({d: np.arange(n) for d, n in result.sizes.items() if d not in result.indexes})


def merge(results: list[xr.Dataset], jobs: list[Job]) -> xr.Dataset:
    """Results stacked along ``job`` (padded with NaN / "") with model, benchmark, area, seed."""
    stacked = []
    for job, result in zip(jobs, results):
        info = json.dumps({k: _plain(v) for k, v in result.attrs.items()}, sort_keys=True, default=str)
        result = _positional(result).assign(
            job_attrs=((), info), overall_score=((), float(result.attrs.get("overall_score", np.nan))))
        result.attrs = {}
        stacked.append(result.expand_dims(job=[job.index]))
    merged = xr.concat(stacked, dim="job", join="outer", combine_attrs="drop")
    for name, variable in merged.data_vars.items():
        if variable.dtype == object:
            merged[name] = variable.fillna("")
    areas = [json.loads(str(merged.job_attrs.values[i])).get("area", j.area or "") for i, j in enumerate(jobs)]
    return merged.assign_coords(model=("job", [j.model for j in jobs]), benchmark=("job", [j.benchmark for j in jobs]),
                                area=("job", areas), seed=("job", [j.seed for j in jobs]))


def accuracy_table(jobs: list[TrainJob], summaries: list[dict], folders: list[str]) -> pd.DataFrame:
    """One row per training: job, task, back-end, seed, the numbers of its evaluation summary
    (accuracy, chance, p-value, ideal observer, steps, seconds, ...) and its run folder."""
    rows = []
    for job, summary, folder in zip(jobs, summaries, folders):
        numbers = {k: v for k, v in summary.items() if k not in ("run", "cache_dir")}
        rows.append({"job": job.index, "task": job.run.task, "backend": job.run.backend, "seed": job.run.seed,
                     **numbers, "run_folder": folder})
    return pd.DataFrame(rows)
