"""CPU allocator setting for step-by-step simulation: reuse freed tensor memory.

Stepped models allocate and free tensors of a few MiB at every time step (a CordsNet-R2 area at
batch 8 and 224 px holds 6.4 MiB). glibc serves such blocks with ``mmap`` and returns freed
memory to the system, so steps pay page faults that zero-fill fresh pages: about 4 % of a
CordsNet-R2 training step on a 2-core CPU (``perf/cordsnet_step.py``). :func:`reuse_freed_memory`
raises glibc's thresholds so blocks up to 32 MiB come from the heap and freed memory stays mapped
for reuse (the process keeps its peak resident size instead of returning it to the system).

Memory freed in one stage of a run stays mapped for the next, which may not need it: scoring
records activity with blocks of one size, then fits with others, so the held blocks add up
(about 0.2 GB in ``neurovision demo``). :func:`release_free_memory` (glibc's ``malloc_trim(0)``)
hands every free heap page back to the system at such a boundary, once, not at every step.

The command line applies it at start-up; set ``NEUROVISION_MALLOC=system`` to keep the system's
behaviour. It is left alone where glibc is absent or the ``MALLOC_MMAP_THRESHOLD_`` /
``MALLOC_TRIM_THRESHOLD_`` environment variables already choose the behaviour.
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD = -1  # glibc mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
#: (mmap threshold, trim threshold) in bytes: glibc's initial values, and the reuse setting (32 MiB
#: is the largest mmap threshold glibc accepts on 64-bit systems)
GLIBC_DEFAULTS = (128 * 2**10, 128 * 2**10)
REUSE = (32 * 2**20, 2**30)
OPT_OUT = "NEUROVISION_MALLOC"


def set_malloc_thresholds(mmap_bytes: int, trim_bytes: int) -> bool:
    """Set glibc's mmap and trim thresholds (bytes); False where glibc is absent or refuses."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, trim_bytes)) and bool(mallopt(M_MMAP_THRESHOLD, mmap_bytes))


def reuse_freed_memory() -> bool:
    """Serve blocks up to 32 MiB from the heap and keep freed memory mapped; True if applied."""
    if os.environ.get(OPT_OUT, "").lower() == "system":
        return False
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    return set_malloc_thresholds(*REUSE)


def release_free_memory() -> bool:
    """Return every free heap page to the system now (``malloc_trim(0)``); False without glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False
