"""``neurovision perf [SCRIPT]``: run the performance benchmarks of perf/ (source checkout).

Without SCRIPT every script runs and docs/performance.md's table is regenerated
(``perf/run_all.py``); with SCRIPT only that one (``perf/<script>.py``), writing its JSON to
``perf/results/``. Arguments after SCRIPT go to the script (e.g. ``--quick``, ``--device cuda``).
"""
from __future__ import annotations

import argparse

from ..errors import NeurovisionError
from ._common import python, source_root


def register(sub) -> None:
    parser = sub.add_parser("perf", help="run performance benchmarks (all, or one script of perf/)",
                            description=__doc__)
    parser.add_argument("script", nargs="?", default="run_all",
                        help="script of perf/ without .py; run_all runs them all and writes the table")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    parser.add_argument("--list", action="store_true", help="list the scripts")
    parser.set_defaults(func=run)


def run(args) -> int:
    import subprocess

    folder = source_root("perf")
    scripts = sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))
    if args.list:
        print("\n".join(scripts))
        return 0
    if args.script not in scripts:
        raise NeurovisionError(f"unknown perf script {args.script!r}; choose one of: {', '.join(scripts)}")
    return subprocess.call([python(), "-m", f"perf.{args.script}", *args.script_args], cwd=folder.parent)
