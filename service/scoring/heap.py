"""Handing freed heap memory back to the operating system after large model work (glibc only).

Scoring thousands of windows allocates and frees many arrays of a few tens of kilobytes (below
glibc's mmap threshold, so they live on the heap); when the work is done the heap is mostly free but
fragmented, and the process keeps its peak RSS. ``malloc_trim(0)`` returns the free pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def trim_heap() -> bool:
    """``malloc_trim(0)``: True when memory was handed back, False when none was (or not glibc)."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
