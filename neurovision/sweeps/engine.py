"""Run sweep jobs (scorings or task trainings) on Dask distributed: a local cluster by default, or a scheduler's address.

Why Dask: its scheduler already does what a sweep needs - a queue of independent tasks fed to
whichever worker is free, retries of failed tasks, rescheduling of tasks whose worker died,
and the same client code for a local process pool and a multi-machine cluster
(``dask scheduler`` + ``dask worker ADDRESS`` on each machine). Results come back to the
client, which writes each into the :class:`~neurovision.sweeps.cache.ResultCache` as soon as it
arrives, so a killed sweep keeps every finished job and a re-run computes only the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NeurovisionError
from .cache import ResultCache
from .jobs import Job, TrainJob, job_key


def connect(scheduler: str | None = None, workers: int = 2, timeout_s: float = 10.0):
    """``(client, cluster)``: a new local cluster of ``workers`` processes, or the scheduler's."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=f"{timeout_s}s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise NeurovisionError(
            f"cannot reach the Dask scheduler at {scheduler!r} within {timeout_s:g} s "
            f"({type(exc).__name__}: {str(exc)[:120]}); check the address (tcp://HOST:8786) and that "
            "`dask scheduler` runs there, or leave out --scheduler to run on a local cluster "
            "(the default, --workers processes on this machine)"
        ) from None


def score_job(job: Job, options: dict):
    """Score one job (runs on a worker); returns the scoring Dataset."""
    from ..brain.scoring import ScoreConfig, resolve_benchmark, score_model
    from ..seeding import seed_everything

    seed_everything(job.seed)
    benchmark = resolve_benchmark(job.benchmark)
    if options.get("time_bins"):
        benchmark = benchmark.with_time_bins(options["time_bins"])
    config = ScoreConfig(shift=options["shift"], controls=tuple(options["controls"]),
                         n_splits=options["n_splits"], seed=job.seed, regression=options["regression"],
                         n_components=options["n_components"], n_permutations=options.get("permutations", 0))
    model = job.model
    score = score_model
    if model.startswith("brainscore:"):
        from ..brain.brainscore_models import score_brainscore_model
        from ..registry import load_model

        score, model = score_brainscore_model, load_model(model, max_features=options["max_features"])
    result = score(model, benchmark, job.area, config, max_features=options["max_features"],
                   batch_size=options["batch_size"], device=options["device"], progress=False)
    return result.assign_attrs(sweep_model=job.model, sweep_benchmark=job.benchmark,
                               sweep_area=job.area or "", sweep_seed=job.seed)


def train_job(job: TrainJob, options: dict) -> dict[str, bytes]:
    """Train one job in a temporary folder (runs on a worker); returns the run folder's files
    (relative path -> bytes) for the client to store, less the front-end feature cache, which
    lies in ``options["cache_dir"]`` when given (a folder every worker reaches) and is else dropped."""
    import tempfile
    from pathlib import Path

    from ..backend.experiment import run_task

    with tempfile.TemporaryDirectory(prefix="neurovision-train-") as tmp:
        run_task(job.run, tmp, options["cache_dir"], device=options["device"], progress=False)
        names = sorted(p.relative_to(tmp) for p in Path(tmp).rglob("*") if p.is_file())
        return {name.as_posix(): (Path(tmp) / name).read_bytes() for name in names if name.parts[0] != "feature-cache"}


@dataclass
class SweepReport:
    """Which jobs were computed now, found in the cache, or failed (with the error)."""

    computed: list[int] = field(default_factory=list)
    cached: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def run_jobs(jobs: list[Job] | list[TrainJob], options: dict, cache: ResultCache, client, retries: int = 2,
             log=print, function=score_job) -> SweepReport:
    """Submit every job not in ``cache``; store each result as it arrives; report failures.

    ``retries``: extra attempts of a job that raised; a job whose worker died is rescheduled
    by Dask itself. ``function(job, options)`` computes one result (default :func:`score_job`;
    :func:`train_job` for training jobs, with a :class:`~neurovision.sweeps.cache.RunFolderCache`).
    """
    from distributed import as_completed

    report = SweepReport()
    keys = {job.index: job_key(job, options) for job in jobs}
    futures = {}
    for job in jobs:
        if cache.has(keys[job.index]):
            report.cached.append(job.index)
            continue
        future = client.submit(function, job, options, key=f"neurovision-job-{keys[job.index][:24]}",
                               retries=retries, pure=False)
        futures[future] = job
    log(f"{len(futures)} jobs to run, {len(report.cached)} found in {cache.folder}")
    for future in as_completed(list(futures)):
        job = futures[future]
        try:
            result = future.result()
        except Exception as exc:  # reported per job after Dask's retries
            report.failed[job.index] = f"{type(exc).__name__}: {str(exc)[:300]}"
            log(f"job {job.index} ({job.describe()}) failed after {retries + 1} attempts: {report.failed[job.index]}")
            continue
        cache.put(keys[job.index], result)
        report.computed.append(job.index)
        log(f"job {job.index} ({job.describe()}) done")
    return report
