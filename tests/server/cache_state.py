"""The cache folder checked against the job table: what the fault and load tests assert after every fault."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any


def folders(parent: Path) -> set[str]:
    return {item.name for item in parent.iterdir()} if parent.is_dir() else set()


def assert_cache_matches_jobs(cache_dir: Path, jobs: list[dict[str, Any]]) -> None:
    """``jobs``: ``GET /jobs``, taken while nothing is being submitted.

    Every job is listed once; a succeeded job has its layers and only succeeded jobs have layers; a job waiting or
    running has its input and no other job has one; nothing half-written (``.…partial``) or stray is left.
    """
    counts = Counter(job["id"] for job in jobs)
    assert all(count == 1 for count in counts.values()), f"listed twice: {[i for i, c in counts.items() if c > 1]}"
    by_state: dict[str, set[str]] = {}
    for job in jobs:
        by_state.setdefault(job["state"], set()).add(job["id"])
    succeeded = by_state.get("succeeded", set())
    unfinished = by_state.get("queued", set()) | by_state.get("running", set())
    layers, inputs = folders(cache_dir / "layers"), folders(cache_dir / "inputs")
    assert layers == succeeded, f"layers without a succeeded job: {layers - succeeded}; missing: {succeeded - layers}"
    assert inputs == unfinished, f"inputs of finished jobs: {inputs - unfinished}; missing: {unfinished - inputs}"
    for job_id in succeeded:
        names = folders(cache_dir / "layers" / job_id)
        assert {"detail.npy", "reference.npy", "blend.npy", "map.npy", "mask.npy"} <= names, (job_id, names)
