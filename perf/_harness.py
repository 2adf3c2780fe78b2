"""Shared machinery of the ``perf/`` scripts: timing, peak memory, machine record, JSON results.

Absolute times are noisy on shared machines, so every figure is a **ratio measured in one run**:
:func:`compare` times a candidate and its reference interleaved (A, B, A, B, ...) and reports the
median, minimum and maximum of the per-pair time ratios, and the ratio of the fastest times
(``best_speedup``: load only ever adds time, so minima are the least disturbed). Peak memory is the resident set size
(RSS, MiB) above the level before the call (freed heap pages are first returned to the OS),
sampled by a background thread (:class:`PeakMemory`), or, on CUDA,
``torch.cuda.max_memory_allocated``. Results are written
atomically to ``perf/results/<name>.json`` as::

    {"name": str, "machine": {...}, "versions": {...}, "repeats": int,
     "metrics": {metric: number | {"median", "min", "max", "unit"}}, "notes": str}
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from neurovision.allocator import reuse_freed_memory
from neurovision.reliability.provenance import versions

RESULTS = Path(__file__).resolve().parent / "results"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Stats:
    """Median, minimum and maximum of repeated measurements (``unit`` e.g. "s", "x", "MiB")."""

    median: float
    min: float
    max: float
    unit: str = ""

    @classmethod
    def of(cls, values, unit: str = "") -> "Stats":
        values = [float(v) for v in values]
        if not values:
            raise ValueError("no measurements")
        return cls(statistics.median(values), min(values), max(values), unit)

    def as_dict(self) -> dict:
        return {"median": self.median, "min": self.min, "max": self.max, "unit": self.unit}


def blas_threads() -> dict[str, int]:
    """Threads of each BLAS library loaded in this process (by file name, from threadpoolctl)."""
    from threadpoolctl import threadpool_info

    return {Path(pool["filepath"]).name: pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "blas"}


def check_blas_threads(threads: int) -> dict[str, int]:
    """Raise unless every loaded BLAS runs ``threads`` threads; return the threads per library.

    ``threadpoolctl.threadpool_limits`` limits the libraries loaded when it is entered: one that
    the timed code loads later (scipy bundles its own OpenBLAS) runs on all cores, so a floor
    timed with it would run on two threads against ours on one. Call this after the timed runs."""
    seen = blas_threads()
    loose = {name: n for name, n in seen.items() if n != threads}
    if loose:
        raise RuntimeError(f"BLAS libraries not limited to {threads} thread(s): {loose}; they were loaded "
                           "after the limit was set, so import them before entering it")
    return seen


def synchronize(device: str | torch.device = "cpu") -> None:
    """Wait for queued CUDA work so timings include it (no-op on CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _time_once(fn: Callable[[], object], device) -> float:
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def timeit(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, device="cpu") -> Stats:
    """Seconds per call of ``fn`` over ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return Stats.of([_time_once(fn, device) for _ in range(repeats)], "s")


@dataclass(frozen=True)
class Comparison:
    """Interleaved timings of a candidate and a reference and their ratio (reference/candidate)."""

    candidate: Stats
    reference: Stats
    speedup: Stats

    @property
    def best_speedup(self) -> float:
        """Fastest reference time / fastest candidate time: contention only ever adds time, so
        the minima are the least disturbed estimate on a busy machine."""
        return self.reference.min / self.candidate.min

    def metrics(self, prefix: str) -> dict:
        """``{prefix}_speedup`` (per-pair), ``_best_speedup`` (of minima) and both times."""
        return {f"{prefix}_speedup": self.speedup.as_dict(),
                f"{prefix}_best_speedup": self.best_speedup,
                f"{prefix}_seconds": self.candidate.as_dict(),
                f"{prefix}_reference_seconds": self.reference.as_dict()}


def compare(candidate: Callable[[], object], reference: Callable[[], object], repeats: int = 5,
            warmup: int = 1, device="cpu") -> Comparison:
    """Time ``candidate`` and ``reference`` alternately; speedup = reference time / candidate time.

    Interleaving puts both under the same machine load, so the ratio is stable even when the
    absolute times drift. ``speedup`` > 1 means the candidate is faster.
    """
    for _ in range(warmup):
        candidate()
        reference()
    cand, ref = [], []
    for _ in range(repeats):
        cand.append(_time_once(candidate, device))
        ref.append(_time_once(reference, device))
    return Comparison(Stats.of(cand, "s"), Stats.of(ref, "s"),
                      Stats.of([r / c for c, r in zip(cand, ref)], "x"))


def rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux ``/proc``; else peak RSS)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _release_free_heap() -> None:
    """Return freed heap pages to the OS (glibc ``malloc_trim``) so RSS growth shows new use."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Context manager measuring the peak memory (MiB) used above the level at entry.

    On CPU a thread samples RSS every ``interval`` seconds (allocations shorter than that can
    be missed; large tensors live longer). On CUDA it reads the allocator's exact peak.
    ``peak_mib`` holds the result after exit; ``samples`` the RSS trace (MiB) on CPU.
    """

    def __init__(self, device: str | torch.device = "cpu", interval: float = 0.002):
        self.device, self.interval = torch.device(device), interval
        self.peak_mib, self.samples = 0.0, []
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_mib())
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        _release_free_heap()
        if self.device.type == "cuda":
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device) / 2**20
        else:
            self._base = rss_mib()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            synchronize(self.device)
            self.peak_mib = torch.cuda.max_memory_allocated(self.device) / 2**20 - self._base
            return
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_mib())
        self.peak_mib = max(self.samples) - self._base


def peak_memory(fn: Callable[[], object], device="cpu") -> float:
    """Peak memory (MiB) that one call of ``fn`` needs above the current level."""
    with PeakMemory(device) as meter:
        fn()
    return meter.peak_mib


def slope(values, xs=None) -> float:
    """Least-squares slope of ``values`` against ``xs`` (default 0, 1, 2, ...)."""
    ys = [float(v) for v in values]
    xs = [float(x) for x in (xs if xs is not None else range(len(ys)))]
    if len(ys) < 2:
        raise ValueError("a slope needs at least two points")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var


def machine(device: str | torch.device = "cpu") -> dict:
    """What ran the measurement: CPU, cores, threads, memory, accelerator."""
    info = {
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * _PAGE / 2**30, 1)
        if hasattr(os, "sysconf") else None,
        "device": str(device),
    }
    if torch.device(device).type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _plain(value):
    if isinstance(value, Stats):
        return value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def profile_summary(path: str, stages: dict, wall: float, peak_mib: float | None = None) -> dict:
    """Wall (s), peak RSS (MiB, when given) and each stage's cumulative seconds and share of
    ``wall`` from a cProfile file; ``stages`` maps a stage to the function names it covers."""
    import pstats

    stats = pstats.Stats(path).stats
    out = {"wall_seconds": wall} if peak_mib is None else {"wall_seconds": wall, "peak_rss_mib": peak_mib}
    for stage, names in stages.items():
        seconds = sum(ct for (_, _, fn), (_, _, _, ct, _) in stats.items() if fn in names)
        out[f"{stage}_seconds"] = seconds
        out[f"{stage}_share"] = seconds / wall
    return out


def write_result(name: str, metrics: dict, repeats: int, device="cpu", notes: str = "",
                 config: dict | None = None, folder: str | os.PathLike | None = None) -> Path:
    """Write ``perf/results/<name>.json`` (atomically) and print a one-line summary per metric."""
    from neurovision.io import atomic_path

    record = {"name": name, "machine": machine(device), "versions": versions(),
              "repeats": int(repeats), "metrics": _plain(metrics), "notes": notes,
              "config": _plain(config or {})}
    path = Path(folder or RESULTS) / f"{name}.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    for key, value in record["metrics"].items():
        print(f"{name}.{key}: {format_value(value)}")
    return path


def format_value(value) -> str:
    """``median [min-max] unit`` for a stats dict, a compact number otherwise."""
    if isinstance(value, dict) and "median" in value:
        unit = value.get("unit") or ""
        spread = ""
        if "min" in value and "max" in value and value["min"] != value["max"]:
            spread = f" [{_num(value['min'])}–{_num(value['max'])}]"
        return f"{_num(value['median'])}{spread}{' ' + unit if unit else ''}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return _num(value)


def _num(x) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"
    return f"{x:.2e}"


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (repeats, sizes, counts)."""
    return _at_least(text, 1)


def nonnegative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (0 switches the measurement off)."""
    return _at_least(text, 0)


def _at_least(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= {low}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
    return value


def device_arg(text: str) -> str:
    """argparse type: a torch device string that exists here (``cuda`` needs a visible GPU)."""
    try:
        device = torch.device(text)
    except RuntimeError as exc:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} ({exc}); choose cpu or cuda[:N]") from None
    return str(device)


def cuda_missing(device) -> bool:
    """True when ``device`` is CUDA but no GPU is visible (the script then skips cleanly)."""
    return torch.device(device).type == "cuda" and not torch.cuda.is_available()


def parser(description: str) -> argparse.ArgumentParser:
    """Command-line options every perf script accepts: --device, --repeats, --quick."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--device", type=device_arg, default="cuda" if torch.cuda.is_available() else "cpu",
                   help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--repeats", type=positive_int, default=5, help="timed repeats per measurement (>= 1)")
    p.add_argument("--quick", action="store_true", help="smallest sizes, for a smoke run")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--system-malloc", action="store_true",
                   help="keep the system allocator's behaviour (default: neurovision.allocator's heap reuse, "
                        "as the command line uses)")
    return p


def result_name(name: str, args) -> str:
    """``name``, or ``name_quick`` for a ``--quick`` smoke run (so it never replaces real figures)."""
    return f"{name}_quick" if getattr(args, "quick", False) else name


def setup(args) -> torch.device:
    """Apply ``--threads``, the allocator setting and the seed; return the device.

    With ``--device cuda`` and no visible GPU it prints why and exits with status 0 (nothing is
    measured or written), so every script runs unchanged on machines without one.
    """
    if cuda_missing(args.device):
        print(f"skipped: --device {args.device} but torch sees no CUDA device on this machine")
        raise SystemExit(0)
    args.heap_reuse = False if args.system_malloc else reuse_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return torch.device(args.device)
