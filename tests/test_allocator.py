"""The allocator setting: large blocks come from the heap once applied; opt-outs are honoured."""
import platform
import subprocess
import sys

import pytest

from neurovision.allocator import reuse_freed_memory

# Maps an 8 MiB block with malloc and prints whether the setting applied and how many bytes
# glibc served by mmap (mallinfo2().hblkhd) for it.
PROBE = """
import ctypes, sys
from neurovision.allocator import GLIBC_DEFAULTS, reuse_freed_memory, set_malloc_thresholds
applied = reuse_freed_memory() if sys.argv[1] != "system" else False
if sys.argv[1] == "reuse-then-defaults":
    applied = set_malloc_thresholds(*GLIBC_DEFAULTS)
libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
before = libc.mallinfo2().hblkhd
block = libc.malloc(8 << 20)
mapped = libc.mallinfo2().hblkhd - before
libc.free(block)
print(applied, mapped)
"""


def _probe(mode: str) -> tuple[str, int]:
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, env=env)
    applied, mapped = out.stdout.split()
    return applied, int(mapped)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_large_blocks_come_from_the_heap_once_applied():
    applied, mapped = _probe("system")
    assert applied == "False" and mapped >= 8 << 20  # glibc's default: mmap for large blocks
    applied, mapped = _probe("reuse")
    assert applied == "True" and mapped == 0
    applied, mapped = _probe("reuse-then-defaults")  # the benchmark's A/B switch back
    assert applied == "True" and mapped >= 8 << 20


@pytest.mark.parametrize("name, value", [("NEUROVISION_MALLOC", "system"), ("MALLOC_TRIM_THRESHOLD_", "131072"),
                                         ("MALLOC_MMAP_THRESHOLD_", "131072")])
def test_opt_outs_leave_the_allocator_alone(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert reuse_freed_memory() is False
