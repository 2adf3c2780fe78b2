"""``neurovision train recurrent``: recurrent networks trained for convergence.

* ``resnet``: a recurrent ResNet (untied / softly coupled / spectrally normalised) with its
  Convergence, Recurrence and Divergence indices (Lippl et al. 2024);
* ``pathfinder``: an hGRU / convLSTM on Pathfinder with BPTT, RBP, C-BPTT or C-RBP, evaluated
  far beyond its training horizon (Linsley et al. 2020).

Each option is one field of :class:`~neurovision.families.recurrent.resnet_run.ResNetRun` or
:class:`~neurovision.families.recurrent.pathfinder_run.PathfinderRun` (the field name is given
where the option's name differs).
"""
from __future__ import annotations

import shlex
import sys

from ._common import (add_device, add_distributed, add_download, add_out, add_quiet, enable_downloads,
                      fraction, non_negative_float, non_negative_int, positive_float, positive_int,
                      resolve_device)

PARENT = "train"

#: field -> (option, type, default, help); ``choices`` where the field has a fixed set
PATHFINDER = {
    "dataset": ("--dataset", str, "pathfinder", "'pathfinder' (generated contours) or a data set id, e.g. "
                "fashion-mnist"),
    "cell": ("--cell", ["hgru", "convlstm"], "hgru", "recurrent cell"),
    "algorithm": ("--algorithm", ["bptt", "rbp", "c-bptt", "c-rbp"], "c-rbp", "training algorithm"),
    "steps": ("--recurrent-steps", positive_int, 15, "recurrent steps while training"),
    "length": ("--length", positive_int, 6, "Pathfinder contour length in dashes"),
    "size": ("--size", positive_int, None, "Pathfinder image side in px (default: from --length)"),
    "channels": ("--channels", positive_int, 25, "hidden channels"),
    "kernel": ("--kernel", positive_int, 15, "horizontal kernel side in px"),
    "n_train": ("--n-train", positive_int, 10000, "training images"),
    "n_test": ("--n-test", positive_int, 1000, "test images"),
    "epochs": ("--epochs", positive_int, 5, "training epochs"),
    "batch_size": ("--batch-size", positive_int, 32, "images per batch"),
    "lr": ("--lr", positive_float, 1e-3, "Adam learning rate"),
    "lcp_weight": ("--lcp-weight", non_negative_float, 10.0, "weight of the Lipschitz-constant penalty (C-*)"),
    "lcp_lambda": ("--lcp-lambda", positive_float, 0.9, "target Lipschitz constant of the penalty (C-*)"),
    "terms": ("--terms", positive_int, 15, "Neumann-series terms of recurrent back-propagation (RBP)"),
    "eval_steps": ("--eval-recurrent-steps", positive_int, 60, "recurrent steps run when evaluating"),
    "grad_clip": ("--grad-clip", positive_float, 5.0, "gradient-norm clip"),
}
RESNET = {
    "dataset": ("--dataset", str, "cifar10-subset", "cifar10-subset, cifar10, fashion-mnist, mnist or "
                "digitclutter-<n>"),
    "variant": ("--variant", ["standard", "icr", "pcr"], "standard",
                "residual form: standard, or spectrally normalised improperly (icr) / properly (pcr) convergent"),
    "coupling": ("--coupling", fraction, 0.0, "soft gradient coupling lambda in [0, 1] (1: shared weights)"),
    "recurrent_init": ("--recurrent-init", bool, False, "identical initial weights in a stage (forced by "
                       "--coupling > 0)"),
    "mu": ("--mu", positive_float, 0.95, "spectral-norm bound of icr/pcr blocks"),
    "width": ("--width", positive_int, 8, "channels of the first stage (doubling per stage)"),
    "blocks": ("--blocks", positive_int, 5, "residual blocks per stage"),
    "stages": ("--stages", positive_int, 3, "stages"),
    "epochs": ("--epochs", positive_int, 8, "training epochs"),
    "batch_size": ("--batch-size", positive_int, 64, "images per batch"),
    "lr": ("--lr", positive_float, 2e-3, "learning rate"),
    "n_train": ("--n-train", positive_int, 10000, "training images"),
    "n_eval": ("--n-eval", positive_int, 500, "shuffled test images the indices are measured on"),
    "n_test": ("--n-test", positive_int, 2000, "test images of the test error"),
    "extra_steps": ("--extra-recurrent-steps", non_negative_int, 16,
                    "block repetitions beyond a stage's depth for the Divergence Index"),
}


def _add_fields(parser, spec: dict) -> None:
    for field, (option, kind, default, text) in spec.items():
        if kind is bool:
            parser.add_argument(option, dest=field, action="store_true", help=text)
        elif isinstance(kind, list):
            parser.add_argument(option, dest=field, choices=kind, default=default, help=text)
        else:
            parser.add_argument(option, dest=field, type=kind, default=default, help=text)


def register(sub) -> None:
    parser = sub.add_parser("recurrent", help="recurrent ResNets (indices) and hGRU/convLSTM on Pathfinder",
                            description=__doc__)
    commands = parser.add_subparsers(dest="network", metavar="NETWORK", required=True)

    resnet = commands.add_parser("resnet", help="train a recurrent ResNet and measure the three indices")
    _add_fields(resnet, RESNET)
    add_out(resnet, help="output folder (metrics.json, model.pt)")
    resnet.set_defaults(func=run_resnet)

    pf = commands.add_parser("pathfinder", help="train an hGRU/convLSTM on Pathfinder (bptt|rbp|c-bptt|c-rbp)")
    _add_fields(pf, PATHFINDER)
    add_out(pf, help="output folder (metrics.json, model.pt, pooled_states.pt)")
    pf.add_argument("--cache", default=None, help="folder caching generated stimuli (default: none)")
    pf.set_defaults(func=run_pathfinder)
    for command in (resnet, pf):
        add_quiet(command)
        add_download(command)
        add_device(command)
        add_distributed(command)


def _command_line() -> str:
    return "neurovision " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _config(cls, spec: dict, args):
    return cls(**{field: getattr(args, field) for field in spec}, seed=args.seed)


def run_pathfinder(args) -> int:
    from pathlib import Path

    from ..families.recurrent.pathfinder_run import PathfinderRun, train_pathfinder
    from ..training.distributed import session

    enable_downloads(args)
    run = _config(PathfinderRun, PATHFINDER, args)
    cache = Path(args.cache) if args.cache else None
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        metrics = train_pathfinder(run, args.out, cache=cache, device=str(device), progress=not args.quiet,
                                   command=_command_line(), world=world)
    if not world.is_main:
        return 0
    print(f"accuracy at {run.steps} steps {metrics['accuracy_at_train_steps']:.3f}, "
          f"at {run.eval_steps} steps {metrics['accuracy_at_eval_steps']:.3f}")
    return 0


def run_resnet(args) -> int:
    from ..families.recurrent.resnet_run import ResNetRun, train_resnet
    from ..training.distributed import session

    enable_downloads(args)
    run = _config(ResNetRun, RESNET, args)
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        metrics = train_resnet(run, args.out, device=str(device), progress=not args.quiet,
                               command=_command_line(), world=world)
    if not world.is_main:
        return 0
    mean = metrics["indices"]["mean"]
    print(f"test error {metrics['test_error']:.3f}; convergence {mean['convergence']:.3f}, "
          f"recurrence {mean['recurrence']:.3f}, divergence {mean['divergence']:.3f}")
    return 0
