"""``neurovision sweep``: score models x benchmarks x areas x seeds as jobs on Dask distributed.

Every combination is an independent job. Jobs run on a local cluster of ``--workers``
processes by default, or on a running Dask cluster given ``--scheduler tcp://HOST:8786`` (same
command). Each finished result is cached under a hash of (model, benchmark, area, seed,
configuration, code version) in ``--cache`` (default ``OUT.cache/``), so a killed sweep resumes
without redoing finished jobs; a job that raises is retried ``--retries`` times, then reported.
When every job has a result they are merged into ``OUT``: the scoring Datasets stacked along
``job`` with coordinates ``model``, ``benchmark``, ``area``, ``seed``, ``overall_score`` per
job and each job's attributes as JSON (``job_attrs``). ``neurovision sweep train-task``
(:mod:`neurovision.cli.sweep_train_task`) runs task trainings on the same engine
(:func:`add_engine_options`, :func:`execute`). See :mod:`neurovision.sweeps.engine`.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..errors import NeurovisionError
from ..reliability.provenance import provenance
from ._common import (add_device, add_out, add_quiet, add_shift, non_negative_int, positive_float, positive_int,
                      resolve_device)


def register(sub) -> None:
    from .main import register_children

    parser = sub.add_parser("sweep", help="score models x benchmarks x areas x seeds, or train tasks x back-ends "
                                          "x seeds (`sweep train-task`), as jobs on Dask (local or cluster)",
                            description=__doc__)
    parser.add_argument("--models", help="comma-separated model ids (brainscore:ID too); required for scoring")
    parser.add_argument("--benchmarks", help="comma-separated benchmark ids; required for scoring")
    parser.add_argument("--areas", default=None,
                        help="comma-separated areas; each model is scored on those it has "
                             "(default: the model's declared area, else chosen on held-out stimuli)")
    parser.add_argument("--time-bins", default=None, help="rebin the benchmarks, e.g. 70:170:10 (ms)")
    add_shift(parser)
    parser.add_argument("--controls", default="temporal,image", help="comma-separated controls ('' for none)")
    parser.add_argument("--permutations", type=non_negative_int, default=0, help="image-shuffled null draws per job")
    parser.add_argument("--n-splits", type=positive_int, default=10, help="cross-validation splits")
    parser.add_argument("--regression", default="pls", choices=["pls", "ridge"], help="mapping to the neurons")
    parser.add_argument("--n-components", type=positive_int, default=25, help="PLS components")
    parser.add_argument("--max-features", type=positive_int, default=1024, help="features kept per area")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass")
    add_out(parser, "file", help="merged results NetCDF file; required for scoring", required=False)
    add_engine_options(parser, "OUT.cache")
    parser.set_defaults(func=run, usage_error=parser.error)
    register_children(parser.add_subparsers(dest="sweep_kind", metavar="KIND"), "sweep")


def add_engine_options(parser, cache_default: str) -> None:
    """The options of the sweep engine, shared by every kind of sweep (and ``--seed``, ``--device``)."""
    parser.add_argument("--seeds", default=None, help="comma-separated seeds, one job each (default: --seed)")
    parser.add_argument("--cache", type=Path, default=None, help=f"job result cache folder (default {cache_default})")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786 "
                             "(default: a local cluster of --workers processes)")
    parser.add_argument("--workers", type=positive_int, default=2, help="local cluster processes")
    parser.add_argument("--retries", type=non_negative_int, default=2, help="extra attempts of a failing job")
    parser.add_argument("--connect-timeout", type=positive_float, default=10.0, help="seconds to reach --scheduler")
    add_quiet(parser)
    add_device(parser)


def _ids(text: str, what: str) -> list[str]:
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if not ids:
        raise NeurovisionError(f"no {what} given; pass a comma-separated list, e.g. --{what} a,b")
    return ids


def _seeds(text: str | None, default: int) -> list[int]:
    if text is None:
        return [default]
    try:
        return [int(s) for s in _ids(text, "seeds")]
    except ValueError:
        raise NeurovisionError(f"--seeds must be comma-separated integers, got {text!r}") from None


def options_of(args) -> dict:
    """The configuration every job shares (part of each job's cache key)."""
    if args.workers < 1 or args.retries < 0:
        raise NeurovisionError(f"need --workers >= 1 and --retries >= 0, got {args.workers}, {args.retries}")
    resolve_device(args.device)
    return {"time_bins": args.time_bins, "shift": args.shift,
            "controls": [c for c in args.controls.split(",") if c], "permutations": args.permutations,
            "n_splits": args.n_splits, "regression": args.regression, "n_components": args.n_components,
            "max_features": args.max_features, "batch_size": args.batch_size, "device": args.device}


def execute(jobs: list, options: dict, cache, args, function) -> tuple:
    """Run ``jobs`` on the cluster of ``args`` (see :func:`add_engine_options`); ``(report,
    workers)``, or a :class:`NeurovisionError` listing every job that failed after its retries."""
    from ..sweeps.engine import connect, run_jobs

    log = (lambda message: None) if args.quiet else print
    client, cluster = connect(args.scheduler, args.workers, args.connect_timeout)
    try:
        workers = len(client.scheduler_info()["workers"])
        report = run_jobs(jobs, options, cache, client, args.retries, log, function)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    if report.failed:
        lines = "\n".join(f"  job {i} ({jobs[i].describe()}): {error}" for i, error in sorted(report.failed.items()))
        raise NeurovisionError(
            f"{len(report.failed)} of {len(jobs)} jobs failed after {args.retries + 1} attempts:\n{lines}\n"
            f"finished results are kept in {cache.folder}; run the same command again to retry only these")
    return report, workers


def run(args) -> int:
    from ..brain.results import save_results
    from ..sweeps.cache import ResultCache
    from ..sweeps.engine import score_job
    from ..sweeps.jobs import job_key, plan
    from ..sweeps.merge import merge

    missing = [flag for flag in ("models", "benchmarks", "out") if getattr(args, flag) is None]
    if missing:
        args.usage_error(f"the following arguments are required: {', '.join('--' + f for f in missing)} "
                         "(or `sweep train-task` for task trainings)")
    options = options_of(args)
    areas = _ids(args.areas, "areas") if args.areas else None
    jobs = plan(_ids(args.models, "models"), _ids(args.benchmarks, "benchmarks"), areas,
                _seeds(args.seeds, args.seed))
    cache = ResultCache(args.cache or args.out.with_name(args.out.name + ".cache"))
    start = time.perf_counter()
    report, workers = execute(jobs, options, cache, args, score_job)
    merged = merge([cache.get(job_key(job, options)) for job in jobs], jobs)
    merged.attrs.update(provenance(args.seed, {**options, "models": args.models, "benchmarks": args.benchmarks,
                                               "areas": args.areas or "", "seeds": args.seeds or ""}),
                        workers=workers, scheduler=args.scheduler or "local",
                        wall_s=round(time.perf_counter() - start, 3),
                        jobs_computed=len(report.computed), jobs_cached=len(report.cached))
    save_results(merged, args.out)
    print(f"wrote {args.out}: {len(jobs)} jobs ({len(report.computed)} computed, {len(report.cached)} "
          f"from the cache) on {workers} worker(s)")
    return 0
