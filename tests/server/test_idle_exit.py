"""A server started on demand goes away once nobody uses it, and the next client brings it back with every finished
job: the rule itself (fast, on ``IdleExitServer``), then ``ldl serve --idle-exit`` as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import uvicorn

from ldl_backend.server.idle_exit import IdleExitServer
from ldl_client import ReferenceSource, SubmitOptions
from ldl_client.records import JobState
from tests.server.conftest import COMPACT
from tests.server.processes import children, running, wait_for
from tests.server.serve_process import client, serve

IDLE = 1.5


async def _nothing(scope: object, receive: object, send: object) -> None:
    return None


def idle_server(idle_exit: float | None, has_jobs: list[bool]) -> IdleExitServer:
    config = uvicorn.Config(_nothing, lifespan="off")
    config.load()
    return IdleExitServer(config, idle_exit, lambda: has_jobs[0])


def ticks_until_exit(server: IdleExitServer, seconds: float) -> bool:
    """Run uvicorn's 0.1 s ticks for ``seconds``; True when the server decided to stop."""

    async def run() -> bool:
        for counter in range(round(seconds * 10)):
            if await server.on_tick(counter):
                return True
            await asyncio.sleep(0.1)
        return False

    return asyncio.run(run())


def test_stops_only_after_the_idle_time_without_requests_or_jobs() -> None:
    jobs = [False]
    server = idle_server(0.5, jobs)
    assert not ticks_until_exit(server, 0.3)
    server.server_state.total_requests += 1  # a request answered restarts the clock
    assert not ticks_until_exit(server, 0.3)
    jobs[0] = True  # a queued or running job keeps it, with no request at all
    assert not ticks_until_exit(server, 1.0)
    jobs[0] = False  # jobs are looked at once a second: the idle time counts from the last look that saw one
    assert ticks_until_exit(server, 1.5)


def test_a_request_in_progress_keeps_it() -> None:
    server = idle_server(0.3, [False])

    async def run() -> bool:
        task = asyncio.create_task(asyncio.sleep(10))  # an open event stream
        server.server_state.tasks.add(task)
        for counter in range(10):
            if await server.on_tick(counter):
                return True
            await asyncio.sleep(0.1)
        task.cancel()
        return False

    assert not asyncio.run(run())


def test_without_idle_exit_it_never_stops() -> None:
    assert not ticks_until_exit(idle_server(None, [False]), 0.5)


@pytest.mark.skipif(sys.platform == "win32", reason="/proc")
def test_an_idle_server_exits_and_a_restart_keeps_finished_jobs(tmp_path: Path, photo_png: bytes) -> None:
    process = serve(tmp_path, "--idle-exit", str(IDLE))
    try:
        first = client(tmp_path)
        options = SubmitOptions(model=COMPACT, reference=ReferenceSource.parse("lanczos"))
        job = first.wait(first.submit(photo_png, options).id)
        assert job.state is JobState.SUCCEEDED
        blend = first.layer(job.id, "blend", "png")
        worker = children(process.pid)
        assert worker
        idle_since = time.monotonic()
        out, err = process.communicate(timeout=IDLE + 20)
        assert time.monotonic() - idle_since > IDLE - 0.2
        assert process.returncode == 0 and "Traceback" not in err, (out, err)
        assert "no requests and no jobs" in err and "stopped" in out
        assert not (tmp_path / "run" / "server.json").exists()
        wait_for(lambda: not any(running(pid) for pid in worker), "the worker to exit", timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    # A front end starts a server again (connect(), as the app and the plug-ins do): the finished job is there with
    # its layers.
    again = client(tmp_path, start_server=True, python=sys.executable, idle_exit=IDLE)
    started = {again.endpoint.pid}
    try:
        assert process.pid not in started
        kept = again.job(job.id)
        assert kept.state is JobState.SUCCEEDED and (kept.width, kept.height) == (job.width, job.height)
        assert again.layer(job.id, "blend", "png") == blend
        # That one goes idle too; the same Client object's next request starts another through its transport.
        gone = again.endpoint.pid
        wait_for(lambda: not running(gone), "the idle exit of the started server", timeout=IDLE + 20)
        assert again.health().ok
        started.add(again.endpoint.pid)
        assert again.endpoint.pid != gone
    finally:
        for pid in started:
            if running(pid):
                os.kill(pid, signal.SIGTERM)
                wait_for(lambda: not running(pid), "a started server to stop", timeout=20)  # noqa: B023
