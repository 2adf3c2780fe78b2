"""The ``neurovision`` command: one verb per job (see docs/cli.md).

Each verb lives in ``neurovision/cli/<name>.py`` with a ``register(subparsers)`` function that
adds its parser and sets ``func``. A module with ``PARENT = "<verb>"`` adds a sub-command of
that verb instead (``train_task.py`` is ``train task``); the verb registers it with
:func:`register_children`. Modules import nothing heavy at import time: building the parser
must not import torch.

Errors never reach the user as tracebacks: a bad option ends with exit code 2 and one line; a
known problem (:class:`~neurovision.errors.NeurovisionError`, a missing or unreadable file) with
exit code 1 and one line; Ctrl-C with exit code 130 and one line (files are written atomically,
so nothing is left half-written); anything else with exit code 1, one line and the path of a
file holding the traceback.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .. import __version__, cli
from ..errors import NeurovisionError
from ._common import Parser, check_args

#: exit codes
OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


def _modules():
    for info in sorted(pkgutil.iter_modules(cli.__path__), key=lambda m: m.name):
        if not info.name.startswith("_") and info.name != "main":
            yield importlib.import_module(f"{cli.__name__}.{info.name}")


def register_children(sub, parent: str) -> None:
    """Register every module whose ``PARENT`` is ``parent`` into the sub-parsers ``sub``."""
    for module in _modules():
        if getattr(module, "PARENT", None) == parent:
            module.register(sub)


def build_parser() -> Parser:
    parser = Parser(
        prog="neurovision",
        description="Continuous-time models of the visual system, scored against the brain over time.\n"
                    "Run `neurovision VERB --help` for a verb's options (docs/cli.md: the grammar).",
    )
    parser.add_argument("--version", action="version", version=f"neurovision {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="VERB")
    for module in _modules():
        if not hasattr(module, "PARENT"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return USAGE
    problem = check_args(args)
    if problem:
        parser.exit(USAGE, f"neurovision {args.command}: error: {problem}\n")
    from ..allocator import reuse_freed_memory

    reuse_freed_memory()
    name = f"neurovision {args.command}"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{name}: interrupted; files being written were discarded (finished checkpoints are kept, "
              "run the same command again to resume)", file=sys.stderr)
        return INTERRUPTED
    except (NeurovisionError, FileNotFoundError, PermissionError) as exc:
        print(f"{name}: error: {_one_line(exc)}", file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, the traceback in a file
        log = _save_traceback(args.command)
        print(f"{name}: error: unexpected {type(exc).__name__}: {_one_line(exc)}; check the inputs and "
              f"options, and report it with the traceback in {log}", file=sys.stderr)
        return FAILED


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _save_traceback(command: str) -> Path:
    """Write the current exception's traceback under the system temp folder; return its path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with tempfile.NamedTemporaryFile("w", prefix=f"neurovision-{command}-{stamp}-", suffix=".log",
                                     dir=tempfile.gettempdir(), delete=False) as handle:
        handle.write(f"neurovision {__version__}: {' '.join(sys.argv)}\n")
        traceback.print_exc(file=handle)
    return Path(handle.name)


if __name__ == "__main__":
    sys.exit(main())
