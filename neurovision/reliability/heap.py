"""Return freed heap memory to the operating system promptly (glibc only).

glibc's ``malloc`` keeps freed memory at the top of its heap for reuse until more than
``M_TRIM_THRESHOLD`` bytes are free (a threshold it raises to the largest block freed so
far), so a scoring run that allocates and frees many arrays of tens of MB holds on to
hundreds of MB it no longer uses. ``neurovision demo`` fixes the threshold at start.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # mallopt parameter number in glibc's malloc.h


def trim_freed_memory(threshold_bytes: int = 1 << 20) -> bool:
    """Make glibc return freed heap memory above ``threshold_bytes``; False where not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_TRIM_THRESHOLD, int(threshold_bytes)))
    except (OSError, AttributeError, TypeError):
        return False
