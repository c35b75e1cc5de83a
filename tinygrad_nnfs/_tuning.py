"""Two process settings that training needs, made by the library's long-running calls only
(`fit`, and so `Model.train` and the demo), never at import; TINYGRAD_NNFS_TUNING=0 leaves
both alone.

- glibc serves allocations above its mmap threshold (128 KiB at start, e.g. a (300, 64)
  float64 activation) with fresh pages from the kernel and trims freed memory at the top of
  its heap; a training loop that frees and reallocates such arrays every step then pays page
  faults for each, which made a float64 epoch of the book's network 2.5x slower in `fit`.
  Raising both thresholds keeps those pages in the process. glibc cannot restore its
  adaptive threshold afterwards, so this one stays set once a training run has made it.
- CPython's cyclic garbage collector rescans every live container in each full collection.
  A graph holds a few of them per op, is acyclic and is freed by reference counting, so
  those rescans are pure cost: a 200,000-op graph spent half its forward time in them.
  During a run full collections are made rarer (threshold2 10 -> 1000: one per ~7 million
  tracked allocations), unless the user changed the thresholds; they are put back after.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import platform
from collections.abc import Iterator

__all__ = ["tune_gc", "tune_malloc", "tuned"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest: arrays below it come from the heap
TRIM_THRESHOLD = 64 * 2**20  # free heap kept for reuse before returning it
GC_DEFAULTS = (700, 10, 10)  # CPython's
GC_THRESHOLDS = (700, 10, 1000)


def _enabled() -> bool:
    return os.environ.get("TINYGRAD_NNFS_TUNING", "1") != "0"


def tune_malloc() -> bool:
    """Raise glibc's mmap and trim thresholds; True if it did (glibc only)."""
    if not _enabled() or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def tune_gc() -> bool:
    """Make full garbage collections rarer; True if it did (not if the user set thresholds)."""
    if not _enabled() or gc.get_threshold() != GC_DEFAULTS:
        return False
    gc.set_threshold(*GC_THRESHOLDS)
    return True


@contextlib.contextmanager
def tuned() -> Iterator[None]:
    """Both settings for a training run; the garbage collector's thresholds put back after."""
    tune_malloc()
    previous = gc.get_threshold()
    tune_gc()
    try:
        yield
    finally:
        if gc.get_threshold() == GC_THRESHOLDS != previous:
            gc.set_threshold(*previous)
