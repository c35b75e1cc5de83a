"""Keep glibc from handing mid-sized arrays back to the kernel after every training step.

glibc serves allocations above its mmap threshold (128 KiB at start, e.g. a (300, 64)
float64 activation) with fresh pages from the kernel, and trims freed memory at the top of
its heap; a training loop that frees and reallocates such arrays every step then pays page
faults for each of them, which here made a float64 epoch of the book's network 2.5x slower.
Raising both thresholds once, at import, keeps those pages in the process instead. Set
TINYGRAD_NNFS_MALLOC_TUNING=0 to leave malloc alone.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["tune_malloc"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest: arrays below it come from the heap
TRIM_THRESHOLD = 64 * 2**20  # free heap kept for reuse before returning it


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds; True if it did (glibc only, opt-out by env)."""
    if os.environ.get("TINYGRAD_NNFS_MALLOC_TUNING", "1") == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
