"""The two verbs of the public API that run a whole job: :func:`score` and :func:`train`."""
from __future__ import annotations

import os
from dataclasses import fields

import xarray as xr


def score(model, benchmark, area: str | None = None, **options) -> xr.Dataset:
    """Score ``model`` (id or model) on ``benchmark`` (id or benchmark) bin by bin.

    ``options`` are :class:`~neurovision.brain.scoring.ScoreConfig` fields (``shift``,
    ``controls``, ``n_permutations``, ...) or keyword arguments of
    :func:`~neurovision.brain.scoring.score_model` (``reducer``, ``batch_size``, ``device``, ...).
    Returns the results Dataset (scores per region and time bin with their controls).
    """
    from .brain.scoring import ScoreConfig, score_model

    names = {f.name for f in fields(ScoreConfig)}
    config = ScoreConfig(**{k: v for k, v in options.items() if k in names})
    rest = {k: v for k, v in options.items() if k not in names}
    return score_model(model, benchmark, area, config, **rest)


def train(task: str, out: str | os.PathLike, **options) -> dict:
    """Train a multi-area back-end on the registered task ``task``; write the run to ``out``.

    ``options`` are :class:`~neurovision.backend.experiment.TaskRun` fields (``backend``,
    ``frontend``, ``units``, ``n_areas``, ``tau`` in ms, ``steps``, ...). Returns the
    evaluation summary (accuracy, chance, reaction times) also written to ``out/evaluation.json``.
    """
    from .backend.experiment import TaskRun, run_task

    return run_task(TaskRun(task=task, **options), out)
