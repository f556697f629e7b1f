"""This machine's physical memory, for the default job memory budget."""

from __future__ import annotations

import os
from pathlib import Path

# A job may take three quarters of the machine: the API process, the desktop and the other applications keep the
# rest. A server started with --max-job-memory sets its own.
JOB_MEMORY_FRACTION = 0.75
# Where the platform says nothing (Windows without /proc or sysconf): a modest laptop.
_UNKNOWN_MEMORY = 8 << 30


def physical_memory() -> int:
    """Total RAM in bytes: /proc/meminfo's MemTotal, else sysconf (macOS, BSD), else 8 GiB."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return _UNKNOWN_MEMORY


def default_job_memory() -> int:
    return int(physical_memory() * JOB_MEMORY_FRACTION)
