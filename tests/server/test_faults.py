"""Faults, one after another, as an unlucky user meets them: the worker killed mid-job, then the server killed mid-job,
then a restart; a cancel landing in every stage of a job; the cache filled past its cap.

After each: no job lost or listed twice, no process of the server left after 30 s, and the cache folder matching the
job table (``cache_state.assert_cache_matches_jobs``). The worker's crash alone, a clean restart and the cap's
eviction order have their own tests (test_worker.py, test_cache_cap.py); these chain them and check what is left.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ldl_backend.server import supervisor
from tests.server import worker_targets
from tests.server.cache_state import assert_cache_matches_jobs, folders
from tests.server.conftest import COMPACT, Server, png_bytes, start_server
from tests.server.processes import assert_all_gone, descendants, running, serving, workers

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")

SLOW = f"model={COMPACT}&reference=tta:8"  # seconds on two cores with large_png: room to kill it mid-way
QUICK = f"model={COMPACT}&reference=lanczos"
TTA4 = f"model={COMPACT}&reference=tta:4"


def listed(server: Server) -> list[dict[str, Any]]:
    reply = server.request("GET", "/jobs")
    assert reply.status == 200, reply.body
    return reply.json()["jobs"]


def by_id(server: Server) -> dict[str, dict[str, Any]]:
    return {job["id"]: job for job in listed(server)}


def wait_stage(server: Server, job_id: str, stage: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = server.job(job_id)
        if job["state"] == "running" and job["progress"]["stage"] == stage:
            return job
        assert job["state"] in ("queued", "running"), job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never reported stage {stage!r}")


# -- the worker, then the server, killed mid-job; then a restart ---------------------------------------------------
def test_worker_then_server_killed_mid_job_then_restart(tmp_path: Path, photo_png: bytes, large_png: bytes) -> None:
    with serving(tmp_path) as first:
        server, cache = first.server, first.cache_dir
        done = server.submit(photo_png, QUICK)
        assert server.wait(done)["state"] == "succeeded"
        crashed, interrupted = server.submit(large_png, SLOW), server.submit(large_png, SLOW)
        server.wait_running(crashed)

        # 1. The worker dies mid-job (the OOM killer, a segfault in a native library).
        worker = server.handle.worker_pid
        assert worker is not None, workers(first.pid)
        os.kill(worker, signal.SIGKILL)
        job = server.wait(crashed)
        assert job["state"] == "failed" and job["error"]["code"] == "worker_crashed", job
        assert_all_gone([worker])
        # A new worker takes the next job; one more waits behind it.
        server.wait_running(interrupted)
        assert server.handle.worker_pid not in (None, worker)
        waiting = server.submit(photo_png, QUICK)
        assert server.job(waiting)["state"] == "queued"
        assert_cache_matches_jobs(cache, listed(server))

        # 2. The server itself dies mid-job: what it started must not outlive it.
        left = first.kill()
        assert workers(first.pid) == set() and left, left
        took = assert_all_gone(left)
        print(f"the killed server's {len(left)} processes were gone {took:.2f} s later")
        # Nothing it left behind may still be writing: the cache stays as the kill left it.
        assert folders(cache / "layers") == {done}

    # 3. A restart: every job once, in the state it had to end in; the cache agrees; nothing re-runs.
    with serving(tmp_path) as second:
        server = second.server
        jobs = by_id(server)
        assert set(jobs) == {done, crashed, interrupted, waiting}
        assert jobs[done]["state"] == "succeeded" and jobs[done]["error"] is None
        assert jobs[crashed]["state"] == "failed" and jobs[crashed]["error"]["code"] == "worker_crashed"
        for job_id in (interrupted, waiting):
            assert jobs[job_id]["state"] == "interrupted" and jobs[job_id]["error"]["code"] == "interrupted"
        assert server.request("GET", f"/jobs/{done}/layers/blend").status == 200
        assert_cache_matches_jobs(second.cache_dir, listed(server))
        after = server.submit(photo_png, QUICK)
        assert server.wait(after)["state"] == "succeeded"
        time.sleep(0.3)  # long enough for a wrongly re-queued job to be picked up
        jobs = by_id(server)
        assert jobs[waiting]["state"] == "interrupted" and jobs[interrupted]["state"] == "interrupted"
        assert_cache_matches_jobs(second.cache_dir, list(jobs.values()))

        code, err, left = second.stop()
        assert code in (0, -signal.SIGTERM) and "Traceback" not in err, (code, err)
        assert_all_gone(left)


def test_a_worker_busy_in_a_long_step_dies_with_its_server(tmp_path: Path, photo_png: bytes) -> None:
    """A worker that sends nothing for a while (one tile of a large model on a CPU takes tens of seconds) learns of
    its server's death from the pipe only when it next reports; it must not outlive the server by that long."""
    with serving(tmp_path, worker="pause_at_stage") as first:
        server = first.server
        worker_targets.pause_file(first.cache_dir.parent).write_text("map", "utf-8")  # paused for a minute
        job_id = server.submit(photo_png, QUICK)
        wait_stage(server, job_id, "map")
        left = first.kill()
        assert left
        took = assert_all_gone(left, timeout=10)
        print(f"a busy worker was gone {took:.2f} s after its server")
    with serving(tmp_path) as second:
        job = second.server.job(job_id)
        assert job["state"] == "interrupted" and job["progress"]["stage"] == "map", job
        assert_cache_matches_jobs(second.cache_dir, listed(second.server))


# -- a cancel in every stage ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pausing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose worker stops each job at the stage named in ``pause_file`` until the job is cancelled."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(supervisor, "serve_jobs", worker_targets.pause_at_stage)
        servers = start_server(home)
        server = next(servers)
    worker = server.handle.worker_pid
    try:
        yield server
        assert server.handle.worker_pid == worker, "a cancel must not cost the worker its life"
    finally:
        servers.close()
    assert worker is not None
    assert_all_gone([worker])


@pytest.fixture(scope="module")
def small_png(photo: np.ndarray) -> bytes:
    return png_bytes(np.ascontiguousarray(photo[:24, :24]))  # one tile: the stage labels carry no tile number


# Every label a job reports on its way (engine/progress.py, artifacts/stages.py): detail, the reference stage and
# each of its TTA passes, the map, the blend; and a model reference, whose pass is one label.
STAGES = [
    (TTA4, "detail"),
    (TTA4, "reference"),
    (TTA4, "reference 2/4"),
    (TTA4, "reference 3/4"),
    (TTA4, "reference 4/4"),
    (TTA4, "map"),
    (TTA4, "blend"),
    (f"model={COMPACT}&reference=model:{COMPACT}", "reference"),
]


@pytest.mark.parametrize(("query", "stage"), STAGES, ids=[f"{q.rsplit('=', 1)[1]}-{s}" for q, s in STAGES])
def test_cancel_in_every_stage(pausing: Server, small_png: bytes, query: str, stage: str) -> None:
    server = pausing
    before = by_id(server)
    worker_targets.pause_file(server.home).write_text(stage, "utf-8")
    job_id = server.submit(small_png, query)
    wait_stage(server, job_id, stage)
    reply = server.request("POST", f"/jobs/{job_id}/cancel")
    assert reply.status == 202, reply.body
    job = server.wait(job_id)
    assert job["state"] == "cancelled" and job["error"] is None, job
    assert job["progress"]["stage"] == stage, job  # it stopped where the cancel landed
    assert server.request("GET", f"/jobs/{job_id}/layers/blend").status == 409
    jobs = listed(server)
    assert {job["id"] for job in jobs} == {*before, job_id}
    assert all(before[job["id"]] == job for job in jobs if job["id"] != job_id), "other jobs changed"
    assert_cache_matches_jobs(server.home / "cache", jobs)
    assert server.healthy()["worker"] == "ready"


def test_after_the_cancels_the_next_job_runs(pausing: Server, small_png: bytes) -> None:
    worker_targets.pause_file(pausing.home).unlink(missing_ok=True)
    job = pausing.wait(pausing.submit(small_png, TTA4))
    assert job["state"] == "succeeded" and job["progress"]["stage"] == "done", job
    jobs = listed(pausing)
    assert [job["state"] for job in jobs].count("cancelled") == len(STAGES)
    assert_cache_matches_jobs(pausing.home / "cache", jobs)


# -- the cache filled past its cap --------------------------------------------------------------------------------
EVICTED = "evicted"


def state_of(server: Server, job_id: str) -> str:
    """The job's state, or ``EVICTED`` when its record is gone (only a succeeded job's can go)."""
    reply = server.request("GET", f"/jobs/{job_id}")
    if reply.status == 404:
        return EVICTED
    assert reply.status == 200, reply.body
    return str(reply.json()["state"])


def final_state(server: Server, job_id: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = state_of(server, job_id)
        if state not in ("queued", "running"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_cache_filled_past_its_cap_with_jobs_in_every_state(tmp_path: Path, photo: np.ndarray) -> None:
    """Twelve jobs sent at once against a cap of two jobs' layers, some cancelled while queued and some failing;
    then a restart. Only succeeded jobs are ever evicted, oldest first; the others keep their records."""
    image = png_bytes(np.ascontiguousarray(photo[:16, :16]))
    layer_bytes = 64 * 64 * (3 * 3 + 2 * 4)  # detail, reference, blend (RGB uint8); map, mask (float32)
    cap = layer_bytes * 5 // 2
    servers = start_server(tmp_path, cache_bytes=cap)
    server = next(servers)
    workers_seen: set[int] = set()
    try:
        sent: list[tuple[str, str]] = []  # (id, what should become of it)
        for index in range(12):
            if index % 4 == 3:  # fp16 on the CPU: fails in the worker
                sent.append((server.submit(image, f"{QUICK}&device=cpu&precision=fp16"), "failed"))
            else:
                sent.append((server.submit(image, QUICK), "succeeded"))
            worker = server.handle.worker_pid
            if worker is not None:
                workers_seen.add(worker)
        cancelled = [job_id for job_id, _ in sent[5:8] if state_of(server, job_id) == "queued"]
        for job_id in cancelled:
            server.request("POST", f"/jobs/{job_id}/cancel")
        final = {job_id: final_state(server, job_id) for job_id, _ in sent}
        # A submission makes room by evicting the oldest finished jobs: one may be gone before anyone looked.
        final = {job_id: "succeeded" if state == EVICTED else state for job_id, state in final.items()}
        for job_id, expected in sent:
            assert final.get(job_id) in (expected, "cancelled"), (job_id, expected, final)

        def check() -> None:
            jobs = by_id(server)
            assert_cache_matches_jobs(tmp_path / "cache", list(jobs.values()))
            gone = [job_id for job_id, _ in sent if job_id not in jobs]
            assert all(final[job_id] == "succeeded" for job_id in gone), "only succeeded jobs are evicted"
            kept = [job_id for job_id, _ in sent if job_id in jobs and jobs[job_id]["state"] == "succeeded"]
            succeeded = [job_id for job_id, _ in sent if final[job_id] == "succeeded"]
            assert kept == succeeded[-len(kept) :] and 1 <= len(kept) <= 2, (kept, succeeded)  # the newest stay
            sizes = sum(sum(f.stat().st_size for f in (tmp_path / "cache" / "layers" / i).iterdir()) for i in kept)
            assert sizes <= cap or len(kept) == 1

        check()
        workers_seen.add(server.handle.worker_pid or 0)
    finally:
        servers.close()
    assert_all_gone(workers_seen - {0})

    again = start_server(tmp_path, cache_bytes=cap)
    server = next(again)
    try:
        check()
    finally:
        again.close()
    assert not any(running(pid) for pid in descendants(os.getpid()) & workers_seen)
