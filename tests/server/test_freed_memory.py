"""After a job the worker hands freed heap pages back to the system (glibc keeps them otherwise)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ldl_backend.server.freed_memory import return_freed_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux only")


def rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_the_pages_of_a_jobs_small_arrays_go_back() -> None:
    # Many heap-sized blocks (below glibc's mmap threshold), then one kept at the top of the heap: freeing the
    # others leaves ~120 MiB inside the heap that free() alone never returns.
    blocks = [np.ones(30_000, dtype=np.float32) for _ in range(1_000)]
    pinned = np.ones(30_000, dtype=np.float32)
    del blocks
    before = rss_mib()
    return_freed_memory()
    after = rss_mib()
    assert before - after > 60, f"RSS {before:.0f} → {after:.0f} MiB"
    assert pinned.sum() == 30_000
