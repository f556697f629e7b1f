"""Pushed job events: the supervisor's and the routes' changes wake ``/events`` at once, the stream does not poll the
job database, and a real ``tta:8`` job reports an honest fraction and ETA through every stage."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ldl_backend.server.job_events import JobEvents
from ldl_backend.server.jobs import JobStore
from ldl_backend.server.routes import KEEPALIVE_SECONDS, RECHECK_SECONDS
from tests.server.conftest import COMPACT, Server


def test_a_notify_from_another_thread_wakes_the_waiter_at_once() -> None:
    events = JobEvents()

    async def scenario() -> tuple[bool, float, bool, bool]:
        with events.follow("job") as waiter:
            assert events.followers("job") == 1
            started = time.monotonic()
            threading.Timer(0.05, events.notify, ("job",)).start()
            woken = await waiter.wait(5.0)
            latency = time.monotonic() - started - 0.05
            events.notify("other")  # another job's change does not wake this one
            quiet = await waiter.wait(0.05)
            events.notify("job")  # a change before the wait starts is kept, not lost
            await asyncio.sleep(0.01)
            kept = await waiter.wait(0.0)
        return woken, latency, quiet, kept

    woken, latency, quiet, kept = asyncio.run(scenario())
    assert woken and latency < 0.05 and not quiet and kept
    assert events.followers("job") == 0


@dataclass(frozen=True)
class Seen:
    at: float  # time.time() when the line arrived
    kind: str  # progress, end or keep-alive
    job: dict[str, Any] | None


class Stream:
    """``GET /jobs/{id}/events`` read line by line on a thread, each event stamped with its arrival time."""

    def __init__(self, server: Server, job_id: str) -> None:
        self.seen: list[Seen] = []
        self._connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        headers = {"Host": f"127.0.0.1:{server.port}", "Authorization": f"Bearer {server.token}"}
        self._connection.request("GET", f"/jobs/{job_id}/events", headers=headers)
        self._response = self._connection.getresponse()
        assert self._response.status == 200
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        kind = ""
        for raw in self._response:
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                self.seen.append(Seen(time.time(), "keep-alive", None))
            elif line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                self.seen.append(Seen(time.time(), kind, json.loads(line.removeprefix("data: "))))
        self._connection.close()

    def events(self, kind: str) -> list[Seen]:
        return [seen for seen in list(self.seen) if seen.kind == kind]

    def wait_for(self, kind: str, timeout: float = 120) -> Seen:
        deadline = time.monotonic() + timeout
        while not self.events(kind):
            assert time.monotonic() < deadline, f"no {kind} event in {timeout} s"
            time.sleep(0.005)
        return self.events(kind)[0]

    def join(self, timeout: float = 120) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the stream did not end"


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[float, str]]]:
    """Every ``JobStore.get`` of the in-process server: (time.monotonic(), job id)."""
    reads: list[tuple[float, str]] = []
    real_get = JobStore.get

    def counting_get(self: JobStore, job_id: str) -> Any:
        reads.append((time.monotonic(), job_id))
        return real_get(self, job_id)

    monkeypatch.setattr(JobStore, "get", counting_get)
    yield reads


def test_events_are_pushed_not_polled(
    server: Server,
    large_png: bytes,
    photo_png: bytes,
    store_reads: list[tuple[float, str]],
) -> None:
    # The supervisor holds back new jobs for a while: queued jobs in which nothing changes.
    with pytest.MonkeyPatch.context() as paused:
        paused.setattr(server.handle.supervisor, "_dispatch", lambda connection: None)
        waiting, deleted = server.submit(photo_png), server.submit(photo_png)
        waiting_stream, deleted_stream = Stream(server, waiting), Stream(server, deleted)
        first = waiting_stream.wait_for("progress")
        deleted_stream.wait_for("progress")
        assert first.job is not None and first.job["state"] == "queued"

        # A quiet stream: keep-alive lines, and the job read again only after RECHECK_SECONDS (a safety net).
        window_start, quiet = time.monotonic(), 1.5
        time.sleep(quiet)
        reads = [at for at, job_id in store_reads if job_id == waiting and at >= window_start]
        assert len(reads) <= quiet / RECHECK_SECONDS + 1, f"the stream read a quiet job {len(reads)} times in {quiet} s"
        keep_alives = [s for s in waiting_stream.seen if s.kind == "keep-alive" and s.at >= time.time() - quiet]
        assert len(keep_alives) >= quiet / KEEPALIVE_SECONDS - 1

        # A cancel and a delete by the API wake their streams at once.
        cancelled = server.request("POST", f"/jobs/{waiting}/cancel").json()
        assert cancelled["state"] == "cancelled"
        waiting_stream.join(5)
        end = waiting_stream.events("end")[0]
        assert end.job is not None and end.job["state"] == "cancelled"
        assert end.at - cancelled["updated"] < 0.1
        asked = time.time()
        assert server.request("DELETE", f"/jobs/{deleted}").status == 204
        deleted_stream.join(5)
        assert deleted_stream.events("end")[0].job is None and deleted_stream.events("end")[0].at - asked < 0.1

    # The worker's progress, as the supervisor records it, arrives within milliseconds (a 0.1 s poll: ~50 ms).
    busy = server.submit(large_png, f"model={COMPACT}&reference=tta:8&device=cpu")
    server.handle.supervisor.wake()
    busy_stream = Stream(server, busy)
    busy_stream.join()
    progress = [s for s in busy_stream.events("progress") if s.job is not None and s.job["state"] == "running"]
    latencies = [s.at - s.job["updated"] for s in progress if s.job is not None]
    assert len(latencies) >= 5 and statistics.median(latencies) < 0.03, latencies
    check_honest_progress([s.job for s in progress if s.job is not None])


def check_honest_progress(jobs: list[dict[str, Any]]) -> None:
    """The fraction only grows, done == total only in the last stage, and the ETA stays positive while reference
    passes remain (events may coalesce: a stream sends the job as it is when it wakes)."""
    reported = [job["progress"] for job in jobs if job["progress"]["total"] > 0]
    assert len({p["total"] for p in reported}) == 1
    fractions = [p["done"] / p["total"] for p in reported]
    assert fractions == sorted(fractions)
    assert all(p["stage"] in ("blend", "done") for p in reported if p["done"] == p["total"])
    reference = [p for p in reported if re.fullmatch(r"reference [2-8]/8(, tile \d+/\d+)?", p["stage"])]
    assert len(reference) >= 3, [p["stage"] for p in reported]
    for p in reference:
        assert p["done"] < p["total"] and p["eta_seconds"] is not None and p["eta_seconds"] > 0
    # The reference is most of a tta:8 job: it ends well before the bar is full.
    assert reference[-1]["done"] / reference[-1]["total"] <= 0.85
