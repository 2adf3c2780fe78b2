"""Schedules of epochs in milliseconds and time bins.

A :class:`Schedule` is a sequence of named epochs (``blank 100 ms``, ``image 100 ms`` ...). Each
epoch shows one stimulus (a key of the stimuli given to the runner) or nothing (``None``).
Time zero is the onset of the first epoch that shows a stimulus, as in neural recordings; time
bins are given relative to it.

Sampling convention: integrating with step ``dt`` yields the state after step ``k`` (k = 1..K)
at schedule time ``k*dt``; a bin ``(start, end]`` averages the states whose times fall in it,
i.e. each state stands for the interval of length ``dt`` that ends at its time.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import ScheduleError

#: epoch names that show nothing when a schedule is parsed from text
BLANK_NAMES = frozenset({"blank", "fixation", "delay", "spontaneous", "return", "off", "gray"})


@dataclass(frozen=True)
class Epoch:
    """One epoch: ``name``, ``duration`` in ms and the ``stimulus`` key shown (None = blank)."""

    name: str
    duration: float
    stimulus: str | None = None

    def __post_init__(self):
        if not (isinstance(self.duration, (int, float)) and math.isfinite(self.duration)):
            raise ScheduleError(
                f"epoch {self.name!r}: duration must be a finite number of ms, got "
                f"{self.duration!r}; give a positive duration such as 100"
            )
        if self.duration <= 0:
            raise ScheduleError(
                f"epoch {self.name!r} has duration {self.duration} ms; durations must be > 0 ms. "
                "Give a positive duration or drop the epoch"
            )


class Schedule:
    """A sequence of :class:`Epoch` s; durations in ms."""

    def __init__(self, epochs):
        self.epochs = tuple(epochs)
        if not self.epochs:
            raise ScheduleError("a schedule needs at least one epoch, e.g. 'blank:100,image:100'")
        for epoch in self.epochs:
            if not isinstance(epoch, Epoch):
                raise ScheduleError(
                    f"schedule entries must be Epoch objects, got {epoch!r}; use "
                    "Epoch(name, duration_ms, stimulus) or Schedule.parse('blank:100,image:100')"
                )

    @classmethod
    def parse(cls, text: str) -> "Schedule":
        """Parse ``"blank:100,image:100,blank:100"`` (``name:ms`` or ``name=stimulus:ms``).

        Names in :data:`BLANK_NAMES` show nothing; any other name shows the stimulus of that
        name unless ``=stimulus`` says otherwise (``=`` alone means blank).
        """
        if not isinstance(text, str) or not text.strip():
            raise ScheduleError("empty schedule; write it as 'blank:100,image:100,blank:100'")
        epochs = []
        for token in text.split(","):
            match = re.fullmatch(r"\s*([\w\-]+)(?:=([\w\-]*))?\s*:\s*([0-9.eE+\-]+)\s*(?:ms)?\s*", token)
            if not match:
                raise ScheduleError(
                    f"cannot parse schedule entry {token!r}; expected 'name:duration_ms'. Write it "
                    "as in 'blank:100,image:100,blank:100' (durations in ms, no unit letters)"
                )
            name, stim, duration = match.groups()
            try:
                duration_ms = float(duration)
            except ValueError:
                raise ScheduleError(f"duration {duration!r} of epoch {name!r} is not a number") from None
            if stim is None:
                stim = None if name in BLANK_NAMES else name
            epochs.append(Epoch(name, duration_ms, stim or None))
        return cls(epochs)

    @classmethod
    def presentation(cls, blank_before: float, image: float, blank_after: float) -> "Schedule":
        """The standard passive-viewing schedule ``blank -> image -> blank`` (ms)."""
        epochs = [Epoch("blank", blank_before)] if blank_before > 0 else []
        epochs.append(Epoch("image", image, "image"))
        if blank_after > 0:
            epochs.append(Epoch("blank", blank_after))
        return cls(epochs)

    def __repr__(self) -> str:
        return f"Schedule({str(self)!r})"

    def __str__(self) -> str:
        parts = []
        for e in self.epochs:
            default = None if e.name in BLANK_NAMES else e.name
            label = e.name if e.stimulus == default else f"{e.name}={e.stimulus or ''}"
            parts.append(f"{label}:{_ms(e.duration)}")
        return ",".join(parts)

    def __eq__(self, other) -> bool:
        return isinstance(other, Schedule) and self.epochs == other.epochs

    def __hash__(self) -> int:
        return hash(self.epochs)

    @property
    def duration(self) -> float:
        """Total duration in ms."""
        return float(sum(e.duration for e in self.epochs))

    @property
    def stimuli(self) -> list[str]:
        """Stimulus keys shown, in order of first appearance."""
        keys: list[str] = []
        for e in self.epochs:
            if e.stimulus is not None and e.stimulus not in keys:
                keys.append(e.stimulus)
        return keys

    @property
    def time_zero(self) -> float:
        """Schedule time (ms) of the first stimulus onset; 0 if nothing is shown."""
        start = 0.0
        for e in self.epochs:
            if e.stimulus is not None:
                return start
            start += e.duration
        return 0.0

    def onset(self, name: str) -> float:
        """Start (ms, schedule time) of the first epoch called ``name``."""
        start = 0.0
        for e in self.epochs:
            if e.name == name:
                return start
            start += e.duration
        raise ScheduleError(f"no epoch named {name!r}; epochs are {[e.name for e in self.epochs]}")

    def n_steps(self, dt: float) -> list[int]:
        """Number of Euler steps of each epoch; every duration must be a multiple of ``dt``."""
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
            raise ScheduleError(f"dt must be a positive number of ms, got {dt!r}; use e.g. dt=1.0")
        counts = []
        for e in self.epochs:
            steps = e.duration / dt
            if abs(steps - round(steps)) > 1e-6:
                raise ScheduleError(
                    f"epoch {e.name!r} lasts {e.duration:g} ms, not a multiple of dt = {dt:g} ms; "
                    f"use {max(1, round(steps)) * dt:g} ms or choose a dt that divides it"
                )
            counts.append(int(round(steps)))
        return counts

    def step_stimuli(self, dt: float) -> list[str | None]:
        """The stimulus key (or None) driving each of the K steps."""
        keys: list[str | None] = []
        for e, n in zip(self.epochs, self.n_steps(dt)):
            keys.extend([e.stimulus] * n)
        return keys

    def step_times(self, dt: float) -> np.ndarray:
        """Times (ms, relative to :attr:`time_zero`) of the states after steps 1..K."""
        total = sum(self.n_steps(dt))
        return np.arange(1, total + 1) * dt - self.time_zero

    def check_bins(self, bins: "list[tuple[float, float]]") -> None:
        """Raise if any bin lies outside the schedule (times relative to stimulus onset)."""
        lo, hi = -self.time_zero, self.duration - self.time_zero
        for start, end in bins:
            if start < lo - 1e-9 or end > hi + 1e-9:
                raise ScheduleError(
                    f"time bin ({start:g}, {end:g}] ms lies outside the schedule, which spans "
                    f"{lo:g} to {hi:g} ms around stimulus onset; lengthen the schedule "
                    f"({self}) or choose bins inside it"
                )


def _ms(value: float) -> str:
    """Shortest text that parses back to exactly ``value`` (``100`` rather than ``100.0``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _number(text: str, spec) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScheduleError(
            f"time bins {spec!r}: {text!r} is not a number of ms; write bins as '70:170:10' or "
            "'0-50,50-100'"
        ) from None


def parse_time_bins(spec) -> list[tuple[float, float]]:
    """Time bins in ms from ``"70:170:10"`` (start:stop:width), ``"0-50,50-100"`` or pairs.

    Returns a list of ``(start, end)`` tuples with ``start < end``.
    """
    if isinstance(spec, str):
        text = spec.strip()
        if re.fullmatch(r"-?[0-9.]+:-?[0-9.]+:[0-9.]+", text):
            start, stop, width = (_number(v, spec) for v in text.split(":"))
            if width <= 0 or stop <= start:
                raise ScheduleError(
                    f"time bins {spec!r}: need start < stop and width > 0 ms; write "
                    "'start:stop:width' as in '70:170:10'"
                )
            n = (stop - start) / width
            if abs(n - round(n)) > 1e-6:
                raise ScheduleError(
                    f"time bins {spec!r}: the span {stop - start:g} ms is not a multiple of the "
                    f"width {width:g} ms; choose a width that divides it or move stop"
                )
            bins = [(start + i * width, start + (i + 1) * width) for i in range(int(round(n)))]
        else:
            bins = []
            for token in filter(None, (t.strip() for t in text.split(","))):
                match = re.fullmatch(r"(-?[0-9.]+)\s*-\s*(-?[0-9.]+)", token)
                if not match:
                    raise ScheduleError(
                        f"cannot parse time bin {token!r}; write 'start:stop:width' "
                        "(e.g. '70:170:10') or 'start-end' pairs (e.g. '0-50,50-100')"
                    )
                bins.append((_number(match.group(1), spec), _number(match.group(2), spec)))
    else:
        try:
            bins = [(float(a), float(b)) for a, b in spec]
        except (TypeError, ValueError):
            raise ScheduleError(
                f"time bins must be (start, end) pairs in ms, got {spec!r}; pass e.g. "
                "[(0, 50), (50, 100)] or the string '0:100:50'"
            ) from None
    if not bins:
        raise ScheduleError(f"no time bins in {spec!r}; write them as '70:170:10' or '0-50,50-100' (ms)")
    for start, end in bins:
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            raise ScheduleError(
                f"time bin ({start}, {end}) ms: need finite start < end; give each bin a "
                "positive width, e.g. '0-50,50-100'"
            )
    return bins


def bin_membership(times: np.ndarray, bins: list[tuple[float, float]]) -> np.ndarray:
    """Boolean matrix ``(n_times, n_bins)``: sample time in ``(start, end]`` of each bin."""
    starts = np.array([b[0] for b in bins])
    ends = np.array([b[1] for b in bins])
    t = np.asarray(times)[:, None]
    return (t > starts[None] + 1e-9) & (t <= ends[None] + 1e-9)
