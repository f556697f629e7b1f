"""The supervisor's view of a worker that will not start: a crash loop, and a slow start.

The supervisor spawns ``supervisor.serve_jobs``; these tests patch it with a stand-in from ``worker_targets`` that
misbehaves until the test creates its release file, so nothing here depends on timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ldl_backend.server import supervisor
from tests.server import worker_targets
from tests.server.conftest import COMPACT, Server, start_server


def health_until(server: Server, done: Callable[[dict[str, Any]], bool], timeout: float = 60) -> list[str]:
    """Poll ``/health`` until ``done(health)``; the worker states seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = server.healthy()
        if not seen or seen[-1] != health["worker"]:
            seen.append(health["worker"])
        if done(health):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"/health never got there; the worker went through {seen}")


def test_crash_loop_reports_failed_and_refuses_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photo_png: bytes
) -> None:
    monkeypatch.setattr(supervisor, "serve_jobs", worker_targets.crash_until_released)
    servers = start_server(tmp_path)
    server = next(servers)
    try:
        seen = health_until(server, lambda health: health["worker"] == "failed")
        assert set(seen) <= {"starting", "restarting", "failed"}, seen  # never ready on the way
        reply = server.request(
            "POST", f"/jobs?model={COMPACT}&reference=lanczos", photo_png, {"Content-Type": "image/png"}
        )
        assert reply.status == 503, reply.body
        assert reply.json()["code"] == "worker_unavailable" and reply.json()["hint"]
        assert int(reply.headers["retry-after"]) > 0
        assert server.request("GET", "/jobs").json()["jobs"] == []  # nothing was recorded
        assert not any((tmp_path / "cache" / "inputs").glob("*"))  # nor kept

        # The cause goes away (say, the user reinstalls): the supervisor keeps retrying and recovers by itself.
        worker_targets.release_file(tmp_path).touch()
        health_until(server, lambda health: health["worker"] == "ready")
        assert server.wait(server.submit(photo_png))["state"] == "succeeded"
    finally:
        servers.close()


def test_job_submitted_while_the_worker_starts_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photo_png: bytes
) -> None:
    """The contract lists "starting" as a worker state and 503 only for a failed worker: a job sent before the worker
    is ready is accepted, stays queued, and runs once the worker is up."""
    monkeypatch.setattr(supervisor, "serve_jobs", worker_targets.start_when_released)
    servers = start_server(tmp_path)
    server = next(servers)
    try:
        assert server.healthy()["worker"] == "starting"
        job_id = server.submit(photo_png)
        assert server.job(job_id)["state"] == "queued"
        health = server.healthy()
        assert health["worker"] == "starting" and health["queued"] == 1 and health["running"] == 0, health
        worker_targets.release_file(tmp_path).touch()
        job = server.wait(job_id)
        assert job["state"] == "succeeded" and job["error"] is None, job
        health_until(server, lambda health: health["worker"] == "ready" and health["queued"] == 0)
    finally:
        servers.close()
