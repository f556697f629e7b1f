"""This machine's memory, from /proc/meminfo on Linux and sysconf elsewhere (no torch: the API process uses it)."""

from __future__ import annotations

import os
from pathlib import Path

# Where the platform says nothing (Windows without /proc or sysconf): a modest laptop.
_UNKNOWN_TOTAL = 8 << 30
_UNKNOWN_AVAILABLE = 4 << 30


def physical_memory() -> int:
    """Total RAM in bytes: MemTotal, else sysconf's physical pages (macOS, BSD), else 8 GiB."""
    return _meminfo("MemTotal") or _sysconf_bytes("SC_PHYS_PAGES") or _UNKNOWN_TOTAL


def available_memory() -> int:
    """RAM a new allocation can get without swapping: MemAvailable, else sysconf's free pages, else 4 GiB."""
    return _meminfo("MemAvailable") or _sysconf_bytes("SC_AVPHYS_PAGES") or _UNKNOWN_AVAILABLE


def _meminfo(field: str) -> int | None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.is_file():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return None


def _sysconf_bytes(pages: str) -> int | None:
    try:
        return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
