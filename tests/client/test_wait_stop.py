"""``Client.wait(stop=...)``: a wait on another thread ends soon after ``stop`` turns true, between the event stream's
keep-alive lines or between polls, and leaves the job running (the caller decides whether to cancel it)."""

from __future__ import annotations

import threading
import time

import pytest

from ldl_client import Client, JobState, SubmitOptions, WaitTimeoutError

from .fake_server import FakeServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OPTIONS = SubmitOptions(model="realesrgan-x4plus")


def test_stop_ends_a_wait_on_a_quiet_stream(client: Client, server: FakeServer) -> None:
    server.backend.hold = True
    job = client.submit(PNG, OPTIONS)
    before = len(server.backend.requests)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    seen = client.wait(job.id, stop=stop.is_set)
    assert 0.3 <= time.monotonic() - started < 1.0
    assert seen.id == job.id and seen.state is JobState.QUEUED  # as last seen; still waiting on the server
    assert server.backend.jobs[job.id]["state"] == "queued"
    # One request: the event stream (no polling, no cancel).
    assert [r.target for r in server.backend.requests[before:]] == [f"/jobs/{job.id}/events"]


def test_a_stop_already_set_returns_at_once(client: Client, server: FakeServer) -> None:
    server.backend.hold = True
    job = client.submit(PNG, OPTIONS)
    started = time.monotonic()
    assert client.wait(job.id, stop=lambda: True).state is JobState.QUEUED
    assert time.monotonic() - started < 0.5


def test_stop_also_ends_the_polling_fallback(client: Client, server: FakeServer) -> None:
    server.backend.events_enabled = False
    server.backend.steps = 10_000
    job = client.submit(PNG, OPTIONS)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    seen = client.wait(job.id, stop=stop.is_set, poll_interval=0.02)
    assert time.monotonic() - started < 1.0 and not seen.state.is_final


def test_a_cancel_during_a_quiet_stream_ends_the_wait_with_the_final_job(client: Client, server: FakeServer) -> None:
    server.backend.hold = True
    job = client.submit(PNG, OPTIONS)
    threading.Timer(0.2, client.cancel, (job.id,)).start()
    assert client.wait(job.id, timeout=5).state is JobState.CANCELLED


def test_the_timeout_holds_between_keep_alives(client: Client, server: FakeServer) -> None:
    server.backend.hold = True
    job = client.submit(PNG, OPTIONS)
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError):
        client.wait(job.id, timeout=0.3)
    assert time.monotonic() - started < 1.5
