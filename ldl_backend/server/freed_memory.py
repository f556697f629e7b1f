"""Giving a finished job's memory back to the system, so an idle worker does not keep a large job's peak.

glibc keeps freed heap pages in the process (its arenas) for the next allocation; a worker that just upscaled a
large image, or was cancelled in the middle of one, then sits at that size until it exits. Measured with the compact
model on a 600×600 input: 373 MiB after the job, 265 MiB after ``malloc_trim(0)`` (258 MiB with the model loaded).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import cache


def return_freed_memory() -> None:
    """Collect garbage, then ask the C library to hand free heap pages back (glibc only; elsewhere a no-op)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # absent in musl: AttributeError
    except (OSError, AttributeError):
        return None
