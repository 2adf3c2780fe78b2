"""``neurovision analyze task RUN``: figures of a finished ``train task`` run, optionally a benchmark score."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import NeurovisionError
from ._common import out_folder, parse_option

PARENT = "analyze"


def register(sub) -> None:
    parser = sub.add_parser(
        "task", help="behaviour curves, PSTHs and tuning of a `train task` run (+ a benchmark)",
        description="Re-run a finished `train task` run's evaluation trials (front-end features from "
                    "its cache) and write behaviour.png, psth.png and tuning.json into it; with "
                    "--benchmark, score it (e.g. roitman2002.LIP) and write score.json and figures to --out.")
    parser.add_argument("run", type=Path, help="folder written by `neurovision train task`")
    parser.add_argument("--benchmark", default=None, help="benchmark id taking a run folder, e.g. roitman2002.LIP")
    parser.add_argument("--task-option", action="append", default=[], metavar="KEY=JSON",
                        help="evaluate on a changed task, e.g. levels='[0.9, 0.55, 0.45, 0.1]' "
                             "(repeatable; figures then go to --out)")
    parser.add_argument("--out", type=out_folder, default=None,
                        help="folder for the figures with --task-option (required then), or for the "
                             "benchmark's score and figures (default RUN/BENCHMARK)")
    parser.add_argument("--fixed-points", action="store_true",
                        help="also search the back-end's fixed points per task condition (drive held at "
                             "the condition's mean input, noise off) and write RUN/fixed_points.json")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..backend.report import report_run
    from ..io import atomic_path
    from ..registry import load_benchmark

    if not (args.run / "model.pt").is_file():
        raise FileNotFoundError(f"{args.run} holds no model.pt; give a folder written by `neurovision train task`")
    options = dict(parse_option(text) for text in args.task_option)
    if options and args.out is None:
        raise NeurovisionError("--task-option needs --out: the run's own figures stay as they are")
    print(json.dumps(report_run(args.run, task_options=options, out=args.out if options else None), indent=2))
    if args.benchmark:
        out = args.out or args.run / args.benchmark
        score = load_benchmark(args.benchmark)(args.run, figures=out)
        payload = {"benchmark": args.benchmark, "run": str(args.run), "score": float(score), **score.attrs}
        with atomic_path(out / "score.json") as tmp:
            tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
        print(json.dumps({k: v for k, v in payload.items() if k != "conditions"}, indent=2, default=float))
    if args.fixed_points:
        from ..backend.task_fixed_points import report_fixed_points

        found = report_fixed_points(args.run)["conditions"]
        print(json.dumps({c: {"converged": r["converged"], "best_relative_step": r["best_relative_step"],
                              "points": len(r["points"])} for c, r in found.items()}, indent=2))
    return 0
