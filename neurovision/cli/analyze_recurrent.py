"""``neurovision analyze measure | indices | state-space``: analyses of trained recurrent networks
(``train recurrent resnet`` and ``train recurrent pathfinder`` runs)."""
from __future__ import annotations

from pathlib import Path

from ._common import add_out

PARENT = "analyze"


def register(sub) -> None:
    ms = sub.add_parser("measure", help="recurrent ResNet: recompute test error and indices of saved runs")
    ms.add_argument("runs", nargs="+", type=Path, help="output folders of `train recurrent resnet` (with model.pt)")
    ms.set_defaults(func=run_measure)

    ix = sub.add_parser("indices", help="recurrent ResNet: indices and test error of runs against lambda")
    ix.add_argument("runs", nargs="+", type=Path, help="output folders of `train recurrent resnet`")
    add_out(ix, help="output folder (indices.json, indices.png)")
    ix.set_defaults(func=run_indices)

    ss = sub.add_parser("state-space", help="Pathfinder: PCA and KS drift tests over runs")
    ss.add_argument("runs", nargs="+", type=Path, help="output folders of `train recurrent pathfinder`")
    add_out(ss, help="output folder (state_space.json, figure)")
    ss.set_defaults(func=run_state_space)


def run_state_space(args) -> int:
    from ..families.recurrent.pathfinder_report import state_space_report

    report = state_space_report(args.runs, args.out)
    for name, entry in report["runs"].items():
        print(f"{name}: drift median {entry['drift_median']:.3f}, stay-put KS {entry['stay_put']['ks_statistic']:.3f}")
    return 0


def run_indices(args) -> int:
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
