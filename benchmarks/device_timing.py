"""Timing work that may run on a GPU: wait for the device before reading the clock (its work is queued)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def median_seconds(work: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Median wall time of ``repeats`` runs of ``work`` after one warm-up run (allocator, kernel choice)."""
    work()
    times: list[float] = []
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        work()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
