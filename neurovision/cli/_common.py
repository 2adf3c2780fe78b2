"""What every sub-command shares: the parser class, option helpers and argument types.

Nothing here imports torch at module level, so building the whole parser (and ``neurovision
list``) stays fast; torch is imported only when a device is checked or resolved.

Argument types run while the command line is parsed, before any work starts: a value they
refuse ends the command with exit code 2 and one line naming the option, the value and what
is expected.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import NeurovisionError

#: where option values come from; defaults and choices are appended by the formatter
DEVICE_HELP = "torch device: cpu, cuda, cuda:N or mps (checked against the devices present here)"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows every optional option's default (unless its help already states it) and keeps the
    descriptions' line breaks."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.required or "(default" in text or action.default is argparse.SUPPRESS:
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) and whose help shows defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# -- argument types ----------------------------------------------------------------------------
def _number(kind, text: str, what: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (counts, sizes, steps)."""
    value = _number(int, text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1), got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(int, text, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (durations, rates, learning rates)."""
    value = _number(float, text, "a positive number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _number(float, text, "a number >= 0")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1] (densities, probabilities)."""
    value = _number(float, text, "a number in [0, 1]")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {text}")
    return value


def shift_ms(text: str) -> str | float:
    """``auto`` or a latency in ms (negative values are checked against --allow-negative-shift)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"shift must be 'auto' or a number of ms, got {text!r}") from None
    if value != value or abs(value) == float("inf"):
        raise argparse.ArgumentTypeError(f"shift must be a finite number of ms, got {text!r}")
    return value


def available_devices() -> list[str]:
    """Device names that exist in this process: cpu, cuda, cuda:0..N-1, mps."""
    import torch

    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def device_name(text: str) -> str:
    """A device that exists here (``cpu`` is accepted without importing torch)."""
    if text == "cpu":
        return text
    valid = available_devices()
    if text not in valid:
        raise argparse.ArgumentTypeError(
            f"device {text!r} is not available here; choose one of: {', '.join(valid)}"
            + ("" if "cuda" in valid else " (no CUDA device is visible)"))
    return text


def _check_writable(path: Path, what: str) -> Path:
    """``path`` can be created (or overwritten): its nearest existing ancestor is a writable folder."""
    target = path.expanduser()
    ancestor = target if target.is_dir() else target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(
            f"cannot write {target}: {ancestor} is a file, not a folder; choose another {what}")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write {target}: folder {ancestor} is not writable; choose another {what}")
    return target


def out_file(text: str) -> Path:
    """An output file that can be written (checked before any work starts)."""
    path = _check_writable(Path(text), "--out file")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {path}: it is a folder; give a file name")
    return path


def out_folder(text: str) -> Path:
    """An output folder that exists or can be created (checked before any work starts)."""
    path = _check_writable(Path(text), "--out folder")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write into {path}: it is a file; give a folder")
    return path


def key_value(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as JSON when it parses (``64``, ``[1, 2]``), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"write KEY=VALUE, e.g. image_size=64, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def parse_option(text: str) -> tuple[str, object]:
    """:func:`key_value` for callers outside argparse (raises :class:`NeurovisionError`)."""
    try:
        return key_value(text)
    except argparse.ArgumentTypeError as exc:
        raise NeurovisionError(f"option {text!r}: {exc}") from None


# -- shared options ----------------------------------------------------------------------------
def add_device(parser) -> None:
    """``--device`` (one meaning everywhere) and ``--seed``."""
    parser.add_argument("--device", type=device_name, default="cpu", help=DEVICE_HELP)
    add_seed(parser)


def add_seed(parser) -> None:
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed of torch, numpy, Python and tasks")


def add_quiet(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_out(parser, kind: str = "folder", help: str = "", **kwargs) -> None:
    """``--out``: a file or folder, checked for writability before the command starts."""
    kwargs.setdefault("required", "default" not in kwargs)
    if isinstance(kwargs.get("default"), Path):  # checked like a given value
        kwargs["default"] = str(kwargs["default"])
    parser.add_argument("--out", type=out_file if kind == "file" else out_folder,
                        help=help or f"output {kind}", **kwargs)


def add_threads(parser) -> None:
    parser.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads")


def add_distributed(parser) -> None:
    parser.add_argument(
        "--distributed", action="store_true",
        help="data-parallel over the processes started by `torchrun --nproc_per_node=N`; "
             "the batch size stays the global batch size")


def add_download(parser) -> None:
    parser.add_argument(
        "--download", action="store_true",
        help="let torchvision fetch missing data sets (mnist, cifar10, cifar100) over the network; "
             "without it only local copies are used")


def add_model_options(parser) -> None:
    parser.add_argument("--model-option", action="append", default=[], type=key_value, metavar="KEY=VALUE",
                        help="model configuration field, e.g. image_size=64 (repeatable; checked "
                             "against the model's fields)")


def add_shift(parser) -> None:
    parser.add_argument("--shift", type=shift_ms, default="auto",
                        help="model-to-neuron latency in ms (>= 0), or 'auto' to choose it per split "
                             "on training stimuli")
    parser.add_argument("--allow-negative-shift", action="store_true",
                        help="accept a negative --shift (model activity later than the neurons')")


def check_args(args) -> str | None:
    """Rules that involve two options; the problem as one sentence, or None."""
    shift = getattr(args, "shift", None)
    if isinstance(shift, float) and shift < 0 and not getattr(args, "allow_negative_shift", False):
        return (f"argument --shift: {shift:g} ms is negative; give a latency >= 0 ms, or add "
                "--allow-negative-shift if the model really lags the neurons")
    return None


# -- run-time helpers --------------------------------------------------------------------------
def resolve_device(name: str):
    """The ``torch.device`` for ``name``, with a clear error when it does not exist here."""
    import torch

    try:
        return torch.device(device_name(name))
    except argparse.ArgumentTypeError as exc:
        raise NeurovisionError(f"--device: {exc}") from None


def enable_downloads(args) -> None:
    """Honour ``--download`` for every data-set loader of this process."""
    if getattr(args, "download", False):
        os.environ["NEUROVISION_DOWNLOAD"] = "1"


def check_limit(limit: int | None, available: int, what: str) -> int:
    """``limit`` items of ``available`` (all when None); refuses a limit beyond the data."""
    if limit is None:
        return available
    if limit > available:
        raise NeurovisionError(f"--limit {limit} exceeds the {available} {what}; give --limit <= {available} "
                               "or leave it out to use them all")
    return limit


def load_model_checked(name: str, options: list[tuple[str, object]]):
    """Build model ``name`` with ``options``, each checked against its configuration fields."""
    from .. import registry

    options = dict(options)
    if options:
        check_model_options(name, options, model_fields(name))
    return registry.load_model(name, **options)


def model_fields(name: str) -> dict[str, object]:
    """Configuration fields of model ``name`` with their defaults: the fields of its ``config``
    dataclass, else the keyword parameters of its class."""
    import dataclasses
    import inspect

    from .. import registry

    model = registry.load_model(name)
    config = getattr(model, "config", None)
    if dataclasses.is_dataclass(config):
        return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    params = list(inspect.signature(type(model).__init__).parameters.values())[1:]
    return {p.name: (None if p.default is p.empty else p.default) for p in params
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def check_model_options(name: str, options: dict, fields: dict) -> None:
    """Raise unless every option names a field and has the type of its default."""
    for key, value in options.items():
        if key not in fields:
            raise NeurovisionError(f"--model-option {key}: model {name!r} has no such field; valid fields: "
                                   f"{', '.join(sorted(fields)) or '(none)'}")
        default = fields[key]
        if default is None or _same_kind(value, default):
            continue
        raise NeurovisionError(f"--model-option {key}={json.dumps(value)}: expected {_kind_name(default)} "
                               f"(default {default!r}); write e.g. {key}={json.dumps(_plain(default))}")


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _same_kind(value, default) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (tuple, list)):
        return isinstance(value, list)
    return isinstance(value, type(default))


def _kind_name(default) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, (tuple, list)):
        return "a list"
    return {int: "an integer", float: "a number", str: "a string"}.get(type(default), type(default).__name__)


def source_root(folder: str) -> Path:
    """``<checkout>/folder`` of a source checkout, or an error saying a checkout is needed."""
    path = Path(__file__).resolve().parents[2] / folder
    if not path.is_dir():
        raise NeurovisionError(f"{folder}/ is not here ({path}); this command runs from a source checkout: "
                               "clone the repository and install it with `pip install -e .`")
    return path


def python() -> str:
    """The interpreter running this command (scripts run under the same environment)."""
    return sys.executable
