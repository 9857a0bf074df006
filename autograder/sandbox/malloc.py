"""The C allocator of a grading process: freed memory kept for the next tensors instead of handed back.

glibc's malloc gives a block above its threshold (128 KiB at first, raised as such blocks are freed)
a mapping of its own, unmapped when freed, and hands the top of its heap back to the kernel once
twice that threshold is free. A lane grades student after student with tensors of the same sizes
(the large batch's 100 000 sequences, the comparisons' float64 copies), so many of them were fresh
memory each time: a page fault and a zeroed page for every 4 KiB written, then an unmap. These
settings, in the grader and in the workers (set as the zygote's warm-up starts), keep it; the page
faults they save are counted in docs/performance.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

TOP_PAD = 64 << 20  # grown and kept in steps of 64 MiB
TRIM_THRESHOLD = 256 << 20  # the heap's top handed back only beyond 256 MiB free
MMAP_THRESHOLD = 32 << 20  # blocks up to 32 MiB (glibc's largest setting) come from the heap


def retain_freed_memory() -> bool:
    """Set the settings above in this process (its forks inherit them); False where the C library is not
    glibc or refuses one, which changes nothing but speed."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_TOP_PAD, TOP_PAD))
    return all([mallopt(parameter, value) == 1 for parameter, value in settings])
