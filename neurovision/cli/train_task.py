"""``neurovision train task``: train a back-end (behind an optional frozen front-end) on a task.

Data-parallel over N processes (the batch size stays global)::

    torchrun --nproc_per_node=N -m neurovision train task --task ... --distributed
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import NeurovisionError
from ._common import (add_device, add_distributed, add_out, add_quiet, fraction, non_negative_float, parse_option,
                      positive_float, positive_int, resolve_device)

PARENT = "train"


def register(sub) -> None:
    parser = sub.add_parser(
        "task", help="train a multi-area back-end on a cognitive task and evaluate it",
        description="Train a continuous-time back-end on a registered task (see `neurovision list "
                    "tasks`). Visual tasks need a frozen front-end, whose features are cached.")
    parser.add_argument("--task", required=True, help="registered task id")
    parser.add_argument("--backend", default="full",
                        help="full | low-rank[:RANK] | sparse[:DENSITY] | sparse-dale[:DENSITY] (default full)")
    add_run_options(parser)
    add_out(parser, default=None, help="output folder (default: runs/tasks/<run id>)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="front-end feature cache (default OUT/feature-cache)")
    add_quiet(parser)
    add_device(parser)
    add_distributed(parser)
    parser.set_defaults(func=run)


def add_run_options(parser) -> None:
    """The options of a :class:`~neurovision.backend.experiment.TaskRun` other than its task,
    back-end and seed (shared with ``sweep train-task``)."""
    parser.add_argument("--task-option", action="append", default=[], metavar="KEY=JSON",
                        help="task keyword argument, e.g. timing='{\"delay\": 800}' (repeatable)")
    parser.add_argument("--frontend-option", action="append", default=[], metavar="KEY=JSON",
                        help="front-end keyword argument, e.g. image_size=32 (repeatable)")
    parser.add_argument("--frontend", default=None,
                        help="registered model id, optionally :AREA (default: its last area)")
    parser.add_argument("--units", type=positive_int, default=128, help="units per back-end area")
    parser.add_argument("--areas", type=positive_int, default=1, help="number of back-end areas in a chain")
    parser.add_argument("--ff-density", type=fraction, default=0.1, help="feedforward projection density")
    parser.add_argument("--fb-density", type=fraction, default=0.05, help="feedback projection density")
    parser.add_argument("--tau", default="100", help="back-end time constant in ms, or one per area "
                        "comma-separated, e.g. 20,100 (default 100)")
    parser.add_argument("--dt", type=positive_float, default=20.0, help="back-end and task step in ms")
    parser.add_argument("--activation", default="relu", help="relu, tanh, softplus or sigmoid")
    parser.add_argument("--noise", type=non_negative_float, default=0.05, help="private noise std of the rates")
    parser.add_argument("--train-steps", type=positive_int, default=2000, help="optimisation (Adam) steps")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="trials per batch")
    parser.add_argument("--lr", type=positive_float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--fixation-weight", type=non_negative_float, default=0.1,
                        help="loss weight outside the response periods (0 = response periods only)")
    parser.add_argument("--train-trials", type=positive_int, default=2000, help="trial pool size with a front-end")
    parser.add_argument("--eval-trials", type=positive_int, default=1000, help="fresh trials for evaluation")
    parser.add_argument("--pool", type=positive_int, default=None,
                        help="pool front-end maps to POOLxPOOL (default: <=1024 features)")
    parser.add_argument("--standardise-inputs", action="store_true",
                        help="z-score each back-end input with the training pool's mean and std")
    parser.add_argument("--threshold", type=float, default=0.8, help="decision threshold of reaction-time tasks")


def parse_taus(text: str) -> float | list[float]:
    """``"100"`` -> 100.0; ``"20,100"`` -> [20.0, 100.0] (ms)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise NeurovisionError(f"--tau {text!r}: give milliseconds, e.g. 100 or 20,100") from None
    return values[0] if len(values) == 1 else values


def task_run(args, task: str, backend: str, seed: int):
    """The :class:`~neurovision.backend.experiment.TaskRun` of ``task`` with ``backend`` and
    ``seed``, every other field from the options of :func:`add_run_options`."""
    from ..backend.experiment import TaskRun

    return TaskRun(task=task, backend=backend, frontend=args.frontend, units=args.units,
                   n_areas=args.areas, ff_density=args.ff_density, fb_density=args.fb_density,
                   tau=parse_taus(args.tau), dt=args.dt, activation=args.activation, noise_std=args.noise,
                   steps=args.train_steps, batch_size=args.batch_size, lr=args.lr,
                   fixation_weight=args.fixation_weight, train_trials=args.train_trials,
                   eval_trials=args.eval_trials, pool=args.pool,
                   standardise_inputs=args.standardise_inputs, threshold=args.threshold, seed=seed,
                   task_options=dict(parse_option(text) for text in args.task_option),
                   frontend_options=dict(parse_option(text) for text in args.frontend_option))


def run(args) -> int:
    from ..backend.experiment import run_task
    from ..training.distributed import session

    device = resolve_device(args.device)
    config = task_run(args, args.task, args.backend, args.seed)
    out = args.out or Path("runs") / "tasks" / config.run_id()
    with session(args.distributed, device) as (world, device):
        world.check_divisible(args.batch_size)  # before front-end features are computed
        summary = run_task(config, out, args.cache_dir, device=str(device), progress=not args.quiet, world=world)
    if not world.is_main:
        return 0
    shown = {k: v for k, v in summary.items() if k != "run"}
    print(json.dumps(shown, indent=2, default=float))
    print(f"wrote {out}")
    return 0
