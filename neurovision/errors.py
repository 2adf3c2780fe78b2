"""Exception types. Each message says what was wrong, what was expected and what to try."""
from __future__ import annotations

import difflib


class NeurovisionError(Exception):
    """Base class of every error raised on purpose by neurovision."""


class UnknownIdError(NeurovisionError, KeyError):
    """An id that no registry holds; the message lists the closest valid ids."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        close = difflib.get_close_matches(name, valid, n=5, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        shown = ", ".join(sorted(valid)[:40]) or "(none registered)"
        super().__init__(f"unknown {kind} id {name!r}.{hint} Valid {kind} ids: {shown}.")
        self.name, self.valid, self.close = name, valid, close

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.args[0]


class ShapeError(NeurovisionError, ValueError):
    """An array or tensor of the wrong shape, dtype or channel count."""


class ScheduleError(NeurovisionError, ValueError):
    """A malformed schedule, duration, dt or time-bin specification."""


class DataError(NeurovisionError, ValueError):
    """Input data that cannot be used as given (NaN/Inf, empty, mismatched ids)."""


class CorruptFileError(NeurovisionError, OSError):
    """A file that exists but cannot be read back (truncated, wrong format, other model)."""


class DivergenceError(NeurovisionError, FloatingPointError):
    """Dynamics or training produced NaN/Inf; the message names the step, area and batch."""


class OutputPathError(NeurovisionError, OSError):
    """An output location that cannot be written."""


class DataUnavailableError(NeurovisionError, FileNotFoundError):
    """A data set that is not on disk and may not (or could not) be downloaded."""
