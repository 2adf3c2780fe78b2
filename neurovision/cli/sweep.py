"""``neurovision sweep``: score many models x benchmarks x areas, split over processes, one NetCDF.

Every (model, benchmark, area) combination is a job, numbered in a fixed order. Under
``torchrun --nproc_per_node=N ... sweep --distributed`` process ``r`` scores jobs ``r, r + N,
...`` (no collective communication is needed); each job's result is written atomically to
``OUT.parts/job-XXXX.nc``, so a sweep that was stopped resumes by skipping finished jobs. The
process of rank 0 then waits for all parts and merges them into ``OUT``: the scoring Datasets
of :func:`neurovision.brain.scoring.score_model` stacked along a new ``job`` dimension with
coordinates ``model``, ``benchmark`` and ``area``, plus ``overall_score`` per job and each
job's attributes as JSON (``job_attrs``); the parts folder is then removed.
"""
from __future__ import annotations

import itertools
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import NeurovisionError
from ..reliability.provenance import provenance
from ._common import (add_device, add_distributed, add_out, add_quiet, add_shift, positive_int, resolve_device)


@dataclass(frozen=True)
class Job:
    """One scoring run: a model id, a benchmark id and an area (None: declared or chosen)."""

    index: int
    model: str
    benchmark: str
    area: str | None


def register(sub) -> None:
    parser = sub.add_parser("sweep", help="score models x benchmarks x areas (split over torchrun processes)")
    parser.add_argument("--models", required=True, help="comma-separated model ids")
    parser.add_argument("--benchmarks", required=True, help="comma-separated benchmark ids")
    parser.add_argument("--areas", default=None,
                        help="comma-separated areas; each model is scored on those it has "
                             "(default: the model's declared area, else chosen on held-out stimuli)")
    parser.add_argument("--time-bins", default=None, help="rebin the benchmarks, e.g. 70:170:10 (ms)")
    add_shift(parser)
    parser.add_argument("--controls", default="temporal,image", help="comma-separated controls ('' for none)")
    parser.add_argument("--n-splits", type=positive_int, default=10, help="cross-validation splits")
    parser.add_argument("--regression", default="pls", choices=["pls", "ridge"], help="mapping to the neurons")
    parser.add_argument("--n-components", type=positive_int, default=25, help="PLS components")
    parser.add_argument("--max-features", type=positive_int, default=1024, help="features kept per area")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass")
    add_out(parser, "file", help="merged results NetCDF file")
    add_quiet(parser)
    add_device(parser)
    add_distributed(parser)
    parser.set_defaults(func=run)


def _ids(text: str, what: str) -> list[str]:
    ids = [t.strip() for t in text.split(",") if t.strip()]
    if not ids:
        raise NeurovisionError(f"no {what} given; pass a comma-separated list, e.g. --{what} a,b")
    return ids


def plan(models: list[str], benchmarks: list[str], areas: list[str] | None) -> list[Job]:
    """All jobs in sweep order (model, then benchmark, then area); checks ids and areas first."""
    from ..registry import benchmark_registry, load_model, model_registry

    for name in models:
        model_registry[name]  # raises UnknownIdError listing the valid ids
    for name in benchmarks:
        benchmark_registry[name]
    model_areas = {}
    for name in models:
        if areas is None:
            model_areas[name] = [None]
            continue
        available = tuple(load_model(name).areas)
        chosen = [a for a in areas if a in available]
        if not chosen:
            raise NeurovisionError(
                f"model {name!r} has none of the areas {areas}; its areas are {list(available)}. "
                "Choose areas it has or leave out --areas"
            )
        model_areas[name] = chosen
    combos = [(m, b, a) for m, b in itertools.product(models, benchmarks) for a in model_areas[m]]
    return [Job(k, *combo) for k, combo in enumerate(combos)]


def part_path(out: Path, job: Job) -> Path:
    """Where ``job``'s result is written before merging."""
    return out.with_name(out.name + ".parts") / f"job-{job.index:04d}.nc"


def score_job(job: Job, args, device) -> "xr.Dataset":
    """Score one job with the Brain-Score adapter; attributes record seed, versions, config."""
    from ..brain.scoring import ScoreConfig, resolve_benchmark, score_model
    from ..dynamics import parse_time_bins
    from ..seeding import seed_everything

    seed_everything(args.seed)
    benchmark = resolve_benchmark(job.benchmark)
    if args.time_bins:
        benchmark = benchmark.with_time_bins(parse_time_bins(args.time_bins))
    controls = tuple(c for c in args.controls.split(",") if c)
    config = ScoreConfig(shift=args.shift, controls=controls, n_splits=args.n_splits, seed=args.seed,
                         regression=args.regression, n_components=args.n_components)
    result = score_model(job.model, benchmark, job.area, config, max_features=args.max_features,
                         batch_size=args.batch_size, device=device, progress=not args.quiet)
    return result.assign_attrs(sweep_model=job.model, sweep_benchmark=job.benchmark,
                               sweep_area=job.area or "")


def _positional(result: "xr.Dataset") -> "xr.Dataset":
    """Non-index coordinates become variables and unindexed dims get 0..n-1, so jobs with
    different neuroids or bins stack by position (padded), each keeping its own ids and times."""
    import numpy as np

    result = result.reset_coords([c for c in result.coords if c not in result.dims])
    return result.assign_coords({d: np.arange(n) for d, n in result.sizes.items() if d not in result.indexes})


def merge(parts: list[Path], jobs: list[Job]) -> "xr.Dataset":
    """Stack the job results along ``job`` (padded with NaN / "" where sizes differ)."""
    import numpy as np
    import xarray as xr

    from ..brain.results import load_results

    stacked = []
    for job, path in zip(jobs, parts):
        result = load_results(path)
        info = json.dumps({k: _plain(v) for k, v in result.attrs.items()}, sort_keys=True)
        result = _positional(result).assign(
            job_attrs=((), info), overall_score=((), float(result.attrs.get("overall_score", np.nan))))
        result.attrs = {}
        stacked.append(result.expand_dims(job=[job.index]))
    merged = xr.concat(stacked, dim="job", join="outer", combine_attrs="drop")
    for name, variable in merged.data_vars.items():
        if variable.dtype == object:
            merged[name] = variable.fillna("")
    return merged.assign_coords(model=("job", [j.model for j in jobs]),
                                benchmark=("job", [j.benchmark for j in jobs]),
                                area=("job", [json.loads(str(merged.job_attrs.values[i]))
                                              .get("area", j.area or "") for i, j in enumerate(jobs)]))


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _wait_for(paths: list[Path], poll: float = 0.5) -> None:
    """Block until every path exists (torchrun stops all processes if one of them fails)."""
    while not all(p.is_file() for p in paths):
        time.sleep(poll)


def run(args) -> int:
    from ..brain.results import save_results
    from ..training.distributed import World, world_from_env

    device = resolve_device(args.device)
    world = world_from_env() if args.distributed else World()
    areas = _ids(args.areas, "areas") if args.areas else None
    jobs = plan(_ids(args.models, "models"), _ids(args.benchmarks, "benchmarks"), areas)
    mine = world.split(jobs)
    for job in mine:
        path = part_path(args.out, job)
        if path.is_file():
            print(f"[rank {world.rank}] job {job.index}: {path} exists, skipped")
            continue
        print(f"[rank {world.rank}] job {job.index}: {job.model} on {job.benchmark} area {job.area or 'auto'}")
        save_results(score_job(job, args, device), path)
    if not world.is_main:
        return 0
    parts = [part_path(args.out, job) for job in jobs]
    _wait_for(parts)
    merged = merge(parts, jobs)
    config = {k: v for k, v in vars(args).items() if k not in ("func", "distributed")}
    merged.attrs.update(provenance(args.seed, config), processes=world.size)
    save_results(merged, args.out)
    shutil.rmtree(parts[0].parent, ignore_errors=True)
    print(f"wrote {args.out}: {len(jobs)} jobs over {world.size} process(es)")
    return 0
