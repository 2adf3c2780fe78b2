"""``neurovision convergence ...``: stable recurrent training and iterative-convergence indices.

Sub-commands:

* ``pathfinder``: train an hGRU/convLSTM on Pathfinder with BPTT, RBP, C-BPTT or C-RBP and
  record its accuracy and pooled states far beyond the training horizon.
* ``state-space``: compare runs of ``pathfinder`` (PCA of pooled states, KS tests of drift).
* ``resnet``: train a recurrent ResNet (untied / softly coupled / spectrally normalised) and
  measure the Convergence, Recurrence and Divergence indices.
* ``measure``: recompute the test error and the indices of saved ``resnet`` runs.
* ``summary``: tabulate and plot the indices and test errors of ``resnet`` runs against lambda.
"""
from __future__ import annotations

import shlex
import sys
from dataclasses import fields
from pathlib import Path

from ..training.distributed import add_arguments, session
from ._common import add_device, resolve_device


def _add_dataclass_options(parser, cls, skip=()) -> None:
    """One ``--option`` per field of dataclass ``cls`` (type and default from the field)."""
    for f in fields(cls):
        if f.name in skip:
            continue
        default = f.default
        kind = type(default) if default is not None else (int if "int" in str(f.type) else float)
        if kind is bool:
            parser.add_argument(f"--{f.name.replace('_', '-')}", action="store_true", default=default)
        else:
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=default,
                                help=f"(default {default})")


def _from_args(cls, args):
    return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


def register(sub) -> None:
    from ..families.recurrent.pathfinder_run import PathfinderRun
    from ..families.recurrent.resnet_run import ResNetRun

    parser = sub.add_parser("convergence", help="stable recurrent training (C-RBP) and convergence indices")
    commands = parser.add_subparsers(dest="convergence_command", metavar="WHAT", required=True)

    pf = commands.add_parser("pathfinder", help="train an hGRU/convLSTM on Pathfinder (bptt|rbp|c-bptt|c-rbp)")
    _add_dataclass_options(pf, PathfinderRun, skip=("seed",))
    pf.add_argument("--out", type=Path, required=True, help="output folder (metrics.json, model.pt)")
    pf.add_argument("--cache", type=Path, default=None, help="folder caching generated stimuli")
    add_device(pf)
    add_arguments(pf)
    pf.set_defaults(func=run_pathfinder)

    ss = commands.add_parser("state-space", help="PCA and KS drift tests over Pathfinder runs")
    ss.add_argument("runs", nargs="+", type=Path, help="output folders of `convergence pathfinder`")
    ss.add_argument("--out", type=Path, required=True, help="output folder (state_space.json, figure)")
    ss.set_defaults(func=run_state_space)

    sm = commands.add_parser("summary", help="indices and test error of `convergence resnet` runs vs lambda")
    sm.add_argument("runs", nargs="+", type=Path, help="output folders of `convergence resnet`")
    sm.add_argument("--out", type=Path, required=True, help="output folder (indices.json, indices.png)")
    sm.set_defaults(func=run_summary)

    ms = commands.add_parser("measure", help="recompute test error and indices of saved `convergence resnet` runs")
    ms.add_argument("runs", nargs="+", type=Path, help="output folders of `convergence resnet` (with model.pt)")
    ms.set_defaults(func=run_measure)

    rn = commands.add_parser("resnet", help="train a recurrent ResNet and measure the three indices")
    _add_dataclass_options(rn, ResNetRun, skip=("seed",))
    rn.add_argument("--out", type=Path, required=True, help="output folder (metrics.json, model.pt)")
    add_device(rn)
    add_arguments(rn)
    rn.set_defaults(func=run_resnet)


def _command_line() -> str:
    return "neurovision " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def run_pathfinder(args) -> int:
    from ..families.recurrent.pathfinder_run import PathfinderRun, train_pathfinder

    run = _from_args(PathfinderRun, args)
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        metrics = train_pathfinder(run, args.out, cache=args.cache, device=str(device), progress=True,
                                   command=_command_line(), world=world)
    if not world.is_main:
        return 0
    print(f"accuracy at {run.steps} steps {metrics['accuracy_at_train_steps']:.3f}, "
          f"at {run.eval_steps} steps {metrics['accuracy_at_eval_steps']:.3f}")
    return 0


def run_state_space(args) -> int:
    from ..families.recurrent.pathfinder_report import state_space_report

    report = state_space_report(args.runs, args.out)
    for name, entry in report["runs"].items():
        print(f"{name}: drift median {entry['drift_median']:.3f}, stay-put KS {entry['stay_put']['ks_statistic']:.3f}")
    return 0


def run_resnet(args) -> int:
    from ..families.recurrent.resnet_run import ResNetRun, train_resnet

    run = _from_args(ResNetRun, args)
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        metrics = train_resnet(run, args.out, device=str(device), progress=True, command=_command_line(),
                               world=world)
    if not world.is_main:
        return 0
    mean = metrics["indices"]["mean"]
    print(f"test error {metrics['test_error']:.3f}; convergence {mean['convergence']:.3f}, "
          f"recurrence {mean['recurrence']:.3f}, divergence {mean['divergence']:.3f}")
    return 0


def run_summary(args) -> int:
    from ..families.recurrent.resnet_report import resnet_report

    for r in resnet_report(args.runs, args.out):
        values = "  ".join(f"{k} {_fmt(r[k])}" for k in ("test_error", "convergence", "recurrence", "divergence"))
        print(f"{r['run']:32s} lambda {r['lambda']:<4g} {values}")
    return 0


def _fmt(value) -> str:
    return "  nan" if value is None else f"{value:.3f}"


def run_measure(args) -> int:
    from ..families.recurrent.resnet_run import measure_resnet

    for folder in args.runs:
        metrics = measure_resnet(folder)
        print(f"{folder}: test error {metrics['test_error']:.3f}, indices {metrics['indices']['mean']}")
    return 0
