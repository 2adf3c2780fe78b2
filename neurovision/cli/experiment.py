"""``neurovision experiment [PAPER [STEP]]``: run one step of a paper's experiments.

Each paper has a folder ``experiments/<paper>/`` in the source checkout holding the scripts that
produced its figures (``<step>.sh`` run with bash, ``<step>.py`` with this Python) and the small
summaries they wrote. Without PAPER the papers are listed; without STEP, the paper's steps. The
steps call the other verbs (``train``, ``analyze``, ...) with the paper's settings; long runs
write to the ignored ``runs/`` folder. Arguments after STEP go to the script, so this command's
own options (``--dry-run``) come before PAPER.
"""
from __future__ import annotations

import argparse

from ..errors import NeurovisionError
from ._common import python, source_root

SCRIPTS = (".sh", ".py")


def register(sub) -> None:
    parser = sub.add_parser("experiment", help="run a step of a paper's experiments (source checkout)",
                            description=__doc__)
    parser.add_argument("paper", nargs="?", default=None, help="folder of experiments/ (default: list them)")
    parser.add_argument("step", nargs="?", default=None, help="script of that folder without its suffix "
                        "(default: list them)")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments passed to the script")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the command instead of running it (give it before PAPER)")
    parser.set_defaults(func=run)


def steps(paper_folder) -> dict[str, object]:
    """``step name -> script path`` of one paper folder."""
    return {p.stem: p for p in sorted(paper_folder.iterdir()) if p.suffix in SCRIPTS and not p.name.startswith("_")}


def _first_comment(path) -> str:
    for line in path.read_text().splitlines()[:12]:
        text = line.strip()
        if text.startswith("#") and not text.startswith("#!") and len(text) > 2:
            return text.lstrip("# ").rstrip()
        if text.startswith('"""'):
            return text.strip('"').rstrip(".")
    return ""


def run(args) -> int:
    import subprocess

    root = source_root("experiments")
    papers = sorted(p.name for p in root.iterdir() if p.is_dir() and steps(p))
    if args.paper is None:
        print("papers (neurovision experiment PAPER lists its steps):")
        for name in papers:
            print(f"  {name}")
        return 0
    if args.paper not in papers:
        raise NeurovisionError(f"unknown paper {args.paper!r}; choose one of: {', '.join(papers)}")
    available = steps(root / args.paper)
    if args.step is None:
        print(f"steps of {args.paper} (neurovision experiment {args.paper} STEP runs one):")
        width = max(len(s) for s in available)
        for name, path in available.items():
            print(f"  {name:<{width}}  {_first_comment(path)}".rstrip())
        return 0
    if args.step not in available:
        raise NeurovisionError(f"unknown step {args.step!r} of {args.paper}; choose one of: {', '.join(available)}")
    script = available[args.step]
    command = (["bash"] if script.suffix == ".sh" else [python()]) + [str(script.relative_to(root.parent)),
                                                                      *args.script_args]
    if args.dry_run:
        print(" ".join(command))
        return 0
    return subprocess.call(command, cwd=root.parent)
