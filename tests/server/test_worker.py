"""The worker process: a crash fails only its job, cancellation, and a full queue."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.conftest import COMPACT, Server, start_server

SLOW = f"model={COMPACT}&reference=tta:8"


@pytest.fixture(scope="module")
def small_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("home"), queue_limit=2)


def test_worker_killed_mid_job(server: Server, large_png: bytes, photo_png: bytes) -> None:
    job_id = server.submit(large_png, SLOW)
    assert server.wait_running(job_id)["state"] == "running"
    pid = server.handle.worker_pid
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    job = server.wait(job_id)
    assert job["state"] == "failed" and job["error"]["code"] == "worker_crashed", job
    assert job["error"]["hint"]
    assert not (server.home / "cache" / "inputs" / job_id).exists()
    server.healthy()
    after = server.submit(photo_png)
    assert server.wait(after)["state"] == "succeeded"
    assert server.handle.worker_pid != pid


def test_cancel_running_job(server: Server, large_png: bytes) -> None:
    job_id = server.submit(large_png, SLOW)
    server.wait_running(job_id)
    reply = server.request("POST", f"/jobs/{job_id}/cancel")
    assert reply.status == 202, reply.body
    job = server.wait(job_id)
    assert job["state"] == "cancelled" and job["error"] is None
    assert server.request("GET", f"/jobs/{job_id}/layers/blend").json()["code"] == "conflict"
    assert not (server.home / "cache" / "layers" / job_id).exists()
    assert server.request("POST", f"/jobs/{job_id}/cancel").status == 409
    assert server.request("DELETE", f"/jobs/{job_id}").status == 204


def test_cancel_unknown_and_finished(server: Server, photo_png: bytes) -> None:
    assert server.request("POST", f"/jobs/{'a' * 32}/cancel").json()["code"] == "not_found"
    job_id = server.submit(photo_png)
    assert server.wait(job_id)["state"] == "succeeded"
    reply = server.request("POST", f"/jobs/{job_id}/cancel")
    assert reply.status == 409 and reply.json()["code"] == "conflict"
    assert server.job(job_id)["state"] == "succeeded"


def test_delete_running_job_conflicts(server: Server, large_png: bytes) -> None:
    job_id = server.submit(large_png, SLOW)
    server.wait_running(job_id)
    assert server.request("DELETE", f"/jobs/{job_id}").status == 409
    assert server.request("GET", f"/jobs/{job_id}/layers/detail").status == 409
    server.request("POST", f"/jobs/{job_id}/cancel")
    assert server.wait(job_id)["state"] == "cancelled"


def test_queue_flood(small_queue: Server, photo_png: bytes) -> None:
    accepted: list[str] = []
    refused = 0
    for _ in range(8):
        reply = small_queue.request(
            "POST", f"/jobs?model={COMPACT}&reference=lanczos", photo_png, {"Content-Type": "image/png"}
        )
        if reply.status == 202:
            accepted.append(reply.json()["id"])
        else:
            assert reply.status == 429 and reply.json()["code"] == "queue_full", reply.body
            assert int(reply.headers["retry-after"]) > 0
            refused += 1
    assert refused > 0 and len(accepted) >= 2
    for job_id in accepted:
        assert small_queue.wait(job_id)["state"] == "succeeded"
    small_queue.healthy()


def test_restart_marks_unfinished_jobs_interrupted(tmp_path: Path, large_png: bytes, photo_png: bytes) -> None:
    servers = start_server(tmp_path)
    first = next(servers)
    running = first.submit(large_png, SLOW)
    queued = first.submit(photo_png)
    first.wait_running(running)
    servers.close()  # clean stop while a job runs and another waits
    assert not (tmp_path / "run" / "server.json").exists()
    again = start_server(tmp_path)
    second = next(again)
    try:
        for job_id in (running, queued):
            job = second.job(job_id)
            assert job["state"] == "interrupted" and job["error"]["code"] == "interrupted", job
        time.sleep(0.3)
        assert second.job(queued)["state"] == "interrupted"  # never re-run
    finally:
        again.close()
