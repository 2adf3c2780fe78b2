"""Sweep jobs and their cache keys.

A job is one scoring run (model, benchmark, area, seed) or one task training (every field of
its :class:`~neurovision.backend.experiment.TaskRun`) under one configuration. Its key is
the SHA-256 of (job, configuration, code version), where the code version hashes every
Python source file of the ``neurovision`` package, so a result is reused only when nothing
that could change it has changed.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import NeurovisionError

if TYPE_CHECKING:
    from ..backend.experiment import TaskRun


@dataclass(frozen=True)
class Job:
    """One scoring run; ``area`` None: the model's declared area, else chosen on held-out stimuli."""

    index: int
    model: str
    benchmark: str
    area: str | None
    seed: int

    def describe(self) -> str:
        return f"{self.model} on {self.benchmark} area {self.area or 'auto'} seed {self.seed}"


@dataclass(frozen=True)
class TrainJob:
    """One training of a back-end on a task; every field of ``run`` is part of the key."""

    index: int
    run: TaskRun

    def describe(self) -> str:
        return f"{self.run.task} with back-end {self.run.backend} seed {self.run.seed}"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 over the package's Python sources (path and bytes), 16 hex digits."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def job_key(job: Job, config: dict) -> str:
    """Cache key of ``job`` under ``config`` (JSON-serialisable) and the current code."""
    payload = {k: v for k, v in asdict(job).items() if k != "index"}
    text = json.dumps({"job": payload, "config": config, "code": code_version()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def plan(models: list[str], benchmarks: list[str], areas: list[str] | None, seeds: list[int]) -> list[Job]:
    """All jobs (model, then benchmark, area, seed); ids and areas are checked first."""
    from ..registry import benchmark_registry, load_model, model_registry

    for name in models:
        if not name.startswith("brainscore:"):
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
    combos = [(m, b, a, s) for m, b in itertools.product(models, benchmarks)
              for a in model_areas[m] for s in seeds]
    return [Job(k, *combo) for k, combo in enumerate(combos)]


def plan_training(tasks: list[str], backends: list[str], seeds: list[int], make_run) -> list[TrainJob]:
    """All trainings (task, then back-end, seed), ``make_run(task, backend, seed)`` building each
    :class:`TaskRun`; task ids and back-end kinds are checked first."""
    from ..backend.build import parse_kind
    from ..registry import task_registry

    for name in tasks:
        task_registry[name]  # raises UnknownIdError listing the closest ids
    for kind in backends:
        parse_kind(kind)
    combos = itertools.product(tasks, backends, seeds)
    return [TrainJob(k, make_run(*combo)) for k, combo in enumerate(combos)]
