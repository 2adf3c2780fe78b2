"""``neurovision sweep train-task``: train tasks x back-ends x seeds as jobs on Dask distributed.

Every (task, back-end, seed) is one ``train task`` run, with every other option of ``train
task`` shared by all jobs. The jobs run on the engine of ``neurovision sweep`` (local cluster or
``--scheduler``, ``--retries``); each is keyed by the SHA-256 of its
:class:`~neurovision.backend.experiment.TaskRun` fields, the device and the code version. A
worker trains in a temporary folder and returns the run's files; the client moves them at once
into ``--cache`` (default ``OUT/runs``) as ``<key[:2]>/<key>/`` (``evaluation.json``,
``model.pt``, ``checkpoint.pt``, ``metrics.jsonl``, ``trials.csv``), so a killed sweep resumes
without redoing finished trainings. When every job has a run, ``OUT/accuracy.csv`` gets one row
per job (task, back-end, seed, accuracy, chance, p-value, ideal observer, ..., run folder) and
``OUT/sweep.json`` the configuration, worker count, wall time and computed / cached counts.
"""
from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path

from ..reliability.provenance import provenance
from ._common import add_out, resolve_device
from .sweep import _ids, _seeds, add_engine_options, execute
from .train_task import add_run_options, task_run

PARENT = "sweep"


def register(sub) -> None:
    parser = sub.add_parser(
        "train-task", help="train tasks x back-ends x seeds as jobs on Dask, into one accuracy table",
        description=__doc__)
    parser.add_argument("--tasks", required=True, help="comma-separated registered task ids")
    parser.add_argument("--backends", default="full",
                        help="comma-separated back-end kinds: full | low-rank[:RANK] | sparse[:DENSITY] | "
                             "sparse-dale[:DENSITY]")
    add_run_options(parser)
    add_out(parser, help="output folder: accuracy.csv, sweep.json and (by default) the run folders in runs/")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="front-end feature cache that every worker can reach (default: none kept, "
                             "each job computes its features in its temporary folder)")
    add_engine_options(parser, "OUT/runs")
    parser.set_defaults(func=run)


def _shown(folder: Path, out: Path) -> str:
    """``folder`` relative to ``out`` when inside it (the table moves with the folder), else absolute."""
    folder = folder.resolve()
    try:
        return folder.relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(folder)


def run(args) -> int:
    from ..io import atomic_path
    from ..sweeps.cache import RunFolderCache
    from ..sweeps.engine import train_job
    from ..sweeps.jobs import job_key, plan_training
    from ..sweeps.merge import accuracy_table

    resolve_device(args.device)
    jobs = plan_training(_ids(args.tasks, "tasks"), _ids(args.backends, "backends"), _seeds(args.seeds, args.seed),
                         functools.partial(task_run, args))
    options = {"device": args.device, "cache_dir": str(args.cache_dir) if args.cache_dir else None}
    cache = RunFolderCache(args.cache or args.out / "runs")
    start = time.perf_counter()
    report, workers = execute(jobs, options, cache, args, train_job)
    keys = [job_key(job, options) for job in jobs]
    table = accuracy_table(jobs, [cache.get(k) for k in keys], [_shown(cache.path(k), args.out) for k in keys])
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out / "accuracy.csv") as tmp:
        table.to_csv(tmp, index=False)
    config = {**options, "tasks": args.tasks, "backends": args.backends, "seeds": args.seeds or "",
              "template": {k: v for k, v in vars(jobs[0].run).items() if k not in ("task", "backend", "seed")}}
    summary = {**provenance(args.seed, config), "workers": workers, "scheduler": args.scheduler or "local",
               "wall_s": round(time.perf_counter() - start, 3), "jobs_computed": len(report.computed),
               "jobs_cached": len(report.cached), "load_average": list(os.getloadavg())}
    with atomic_path(args.out / "sweep.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1) + "\n")
    if not args.quiet:
        print(table[["task", "backend", "seed", "accuracy", "chance"]].to_string(index=False))
    print(f"wrote {args.out / 'accuracy.csv'}: {len(jobs)} trainings ({len(report.computed)} computed, "
          f"{len(report.cached)} from the cache) on {workers} worker(s)")
    return 0
