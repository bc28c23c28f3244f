"""Keeping freed memory in the process, so that big tensors do not page-fault on every run.

glibc serves large allocations (up to 32 MB, adaptively) from fresh ``mmap`` pages and returns them
on ``free``; the next allocation faults every page in again. PyTorch's CPU allocator does not cache,
so each 640x360 feature map of a network costs its size in page faults, on every run. Measured on 2
cores at x2: conv kernels took 2-5x longer, whole networks about 2.5x, and whether a given kernel
landed in the fast (reused heap) or slow (fresh pages) mode depended on what ran before it, so the
same kernel timed twice differed by up to 5x. PyTorch's CPU tuning guide recommends a caching
allocator (jemalloc, TCMalloc) for inference; turning off ``mmap`` and heap trimming with ``mallopt``
gives glibc the same steady state without preloading a library.
"""

from __future__ import annotations

import ctypes
import functools
import platform

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_NEVER_TRIM = 2**31 - 1  # bytes: mallopt takes an int


@functools.cache
def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse (process-wide, once); ``False`` where not glibc."""
    if not can_keep_freed_memory():
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
    except (OSError, AttributeError):
        return False


@functools.cache
def can_keep_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` can work here (without changing anything).

    Cached: ``platform.libc_ver`` reads the interpreter's binary, and every back-end asks.
    """
    return platform.libc_ver()[0] == "glibc"


def release_freed_memory() -> None:
    """Hand freed heap memory back to the OS (glibc's ``malloc_trim``); a no-op elsewhere.

    Called after a block of networks was timed and its sessions released, so that a long calibration
    does not keep the peak of every block it ran. Explicit, so it works even after
    :func:`keep_freed_memory` (the next block's warm-up runs fault the pages in again before any
    timed run).
    """
    if not can_keep_freed_memory():
        return
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
