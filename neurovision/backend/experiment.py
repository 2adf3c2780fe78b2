"""One training run of a back-end on a task (optionally behind a frozen front-end), end to end.

:func:`run_task` builds the task and the network from a :class:`TaskRun`, trains with
:func:`~neurovision.backend.training.train`, evaluates on fresh trials and writes to ``out``:

* ``checkpoint.pt``: the training loop's checkpoint (a run started again resumes from it);
* ``metrics.jsonl``: loss and response accuracy per step;
* ``model.pt``: the trained back-end with the run configuration (:func:`load_run` rebuilds it);
* ``evaluation.json``: accuracy vs chance, ideal observer, wall times, configuration;
* ``trials.csv``: the evaluation trials' conditions, choices and reaction times.

With a front-end, training uses a fixed pool of ``train_trials`` trials whose front-end features
are read from (or written to) the feature cache; evaluation uses fresh trials (and the test
images of tasks that have image splits). With ``standardise_inputs`` the back-end z-scores each
input with the training pool's mean and standard deviation (kept in ``model.pt``). Under
``torchrun`` (``world`` of several ranks) rank 0 fills the feature cache before the other ranks
read it, every rank trains on its slice of each batch, and rank 0 alone evaluates and writes.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import OutputPathError, ShapeError
from ..io import atomic_path
from ..registry import load_model, load_task
from ..seeding import seed_everything
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..training.distributed import World
from .build import build_backend
from .cache import FeatureCache, feature_trials
from .evaluation import decision_rule, evaluate
from .multiarea import MultiAreaModel, default_pool, frontend_spec, reduced_size
from .training import train
from .trials import draw_trials

EVAL_SEED_OFFSET = 1_000_003


@dataclass
class TaskRun:
    """Everything that defines a run (times in ms); ``task_options`` and ``frontend_options``
    are keyword arguments of the task's and the front-end's factories."""

    task: str
    backend: str = "full"
    frontend: str | None = None
    units: int = 128
    n_areas: int = 1
    ff_density: float = 0.1
    fb_density: float = 0.05
    tau: float | list = 100.0
    dt: float = 20.0
    activation: str = "relu"
    noise_std: float = 0.05
    steps: int = 2000
    batch_size: int = 32
    lr: float = 3e-3
    fixation_weight: float = 0.1
    train_trials: int = 2000
    eval_trials: int = 1000
    pool: int | None = None
    standardise_inputs: bool = False
    threshold: float = 0.8
    seed: int = 0
    task_options: dict = dataclasses.field(default_factory=dict)
    frontend_options: dict = dataclasses.field(default_factory=dict)

    def run_id(self) -> str:
        front = f"{self.frontend.replace(':', '-')}+" if self.frontend else ""
        areas = f"-x{self.n_areas}" if self.n_areas > 1 else ""
        return f"{self.task}__{front}{self.backend.replace(':', '-')}{areas}"


def _task(run: TaskRun, seed: int, image_shape=None, split: str | None = None):
    kwargs = {**run.task_options, "seed": seed, "dt": run.dt}
    if image_shape is not None:
        kwargs["image_shape"] = image_shape
    if split is not None:
        kwargs["split"] = split
    return load_task(run.task, **kwargs)


def _backend(run: TaskRun, n_inputs: int, n_outputs: int):
    return build_backend(run.backend, n_inputs, n_outputs, units=run.units, n_areas=run.n_areas,
                         ff_density=run.ff_density, fb_density=run.fb_density, tau=run.tau,
                         dt=run.dt, activation=run.activation, noise_std=run.noise_std,
                         standardise_inputs=run.standardise_inputs, seed=run.seed)


def build(run: TaskRun):
    """``(train env, eval env, model, backend)``; ``model`` is the back-end or a MultiAreaModel."""
    if run.frontend is None:
        env = _task(run, run.seed)
        if hasattr(env, "image_shape"):
            raise ShapeError(f"task {run.task!r} shows images; give a front-end (--frontend ID[:AREA])")
        evaluation_env = _task(run, run.seed + EVAL_SEED_OFFSET)
        backend = _backend(run, env.observation_space.shape[0], env.action_space.n)
        return env, evaluation_env, backend, backend
    model_id, area = frontend_spec(run.frontend)
    frontend = load_model(model_id, **run.frontend_options)
    area = area or frontend.areas[-1]
    frontend.check_area(area)
    env = _task(run, run.seed, image_shape=frontend.input_shape)
    if not hasattr(env, "image_shape"):
        raise ShapeError(f"task {run.task!r} shows no images; train it without a front-end")
    split = "test" if getattr(env, "image_splits", None) else None
    evaluation_env = _task(run, run.seed + EVAL_SEED_OFFSET, frontend.input_shape, split)
    pool = run.pool if run.pool is not None else default_pool(tuple(frontend.area_shape(area)))
    backend = _backend(run, 1 + reduced_size(tuple(frontend.area_shape(area)), pool), env.action_space.n)
    return env, evaluation_env, MultiAreaModel(frontend, area, backend, pool), backend


def evaluation_trials(run: TaskRun, env, model, cache_dir=None, progress: bool = False):
    """The run's ``eval_trials`` fresh trials (seed ``run.seed + EVAL_SEED_OFFSET``) as the
    back-end sees them: task inputs, or front-end features (cached in ``cache_dir``)."""
    seed = run.seed + EVAL_SEED_OFFSET
    if not isinstance(model, MultiAreaModel):
        return draw_trials(env, run.eval_trials, seed)
    cache = FeatureCache(cache_dir) if cache_dir is not None else None
    return feature_trials(model, env, run.eval_trials, seed, cache, progress=progress)


def _write_json(path: Path, payload: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")


def run_task(run: TaskRun, out: str | Path, cache_dir: str | Path | None = None,
             device: str = "cpu", progress: bool = True, world: World = World()) -> dict:
    """Train, evaluate and save one run into ``out``; return the evaluation summary ({} on
    ranks other than 0)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot create the run folder {out}: {exc.strerror or exc}; "
                              "choose a writable --out") from exc
    seed_everything(run.seed)
    env, evaluation_env, model, backend = build(run)
    start = time.time()
    cache_dir = cache_dir or out / "feature-cache"
    if model is backend:
        data = env
    else:
        if not world.is_main:
            world.barrier()  # until rank 0 has filled the feature cache, which the others then read
        data = feature_trials(model, env, run.train_trials, run.seed, FeatureCache(cache_dir),
                              progress=progress and world.is_main, fixation_weight=run.fixation_weight)
        if world.is_main:
            world.barrier()
    if run.standardise_inputs:
        pool = data if model is not backend else draw_trials(env, run.train_trials, run.seed)
        backend.fit_input_standardisation(pool.inputs)
    test_trials = evaluation_trials(run, evaluation_env, model, cache_dir, progress) if world.is_main else None
    features_s = time.time() - start
    started = time.time()
    result = train(backend, data, steps=run.steps, batch_size=run.batch_size, lr=run.lr,
                   fixation_weight=run.fixation_weight, seed=run.seed, checkpoint=out / "checkpoint.pt",
                   log=out / "metrics.jsonl", model_id=run.run_id(), device=device, progress=progress,
                   world=world)
    train_s = time.time() - started
    if not world.is_main:
        return {}
    backend.to("cpu").eval()
    evaluation = evaluate(backend, test_trials, decision_rule(env), run.threshold)
    summary = {"run": dataclasses.asdict(run), **evaluation.summary(), "train_steps": result.global_step,
               "skipped_batches": result.skipped, "feature_seconds": features_s,
               "train_seconds": train_s, "threads": torch.get_num_threads(), "cache_dir": str(cache_dir)}
    save_checkpoint(out / "model.pt", backend, run.run_id(), meta={"run": json.dumps(dataclasses.asdict(run))})
    _write_json(out / "evaluation.json", summary)
    with atomic_path(out / "trials.csv") as tmp:
        evaluation.table.to_csv(tmp, index=False)
    return summary


def run_cache_dir(folder: str | Path) -> Path:
    """The feature-cache folder a finished run used (``folder/feature-cache`` by default)."""
    summary = Path(folder) / "evaluation.json"
    if summary.is_file():
        return Path(json.loads(summary.read_text()).get("cache_dir") or Path(folder) / "feature-cache")
    return Path(folder) / "feature-cache"


def load_run(folder: str | Path, task_options: dict | None = None):
    """``(run, eval env, model)`` of a finished run folder (weights from its ``model.pt``);
    ``task_options`` override the run's task options in the evaluation env (e.g. other
    stimulus levels than trained on)."""
    folder = Path(folder)
    payload = load_checkpoint(folder / "model.pt")
    run = TaskRun(**json.loads(payload["meta"]["run"]))
    run.task_options.update(task_options or {})
    _, evaluation_env, model, backend = build(run)
    load_checkpoint(folder / "model.pt", backend, model_id=run.run_id())
    return run, evaluation_env, model.eval()
