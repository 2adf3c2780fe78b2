"""The ``neurovision`` command. Each sub-command lives in ``neurovision/cli/<name>.py``
with a ``register(subparsers)`` function that adds its parser and sets ``func``."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from .. import __version__, cli
from ..allocator import reuse_freed_memory
from ..errors import NeurovisionError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neurovision",
        description="Continuous-time models of the visual system, scored against the brain over time.",
    )
    parser.add_argument("--version", action="version", version=f"neurovision {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cli.__path__), key=lambda m: m.name):
        if not info.name.startswith("_") and info.name != "main":
            importlib.import_module(f"{cli.__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    reuse_freed_memory()
    try:
        return int(args.func(args) or 0)
    except (NeurovisionError, FileNotFoundError) as exc:
        print(f"neurovision {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
