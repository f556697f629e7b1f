"""The supervisor: a thread in the API process that owns the worker process, feeds it queued jobs one at a time,
records what it reports (waking the job's event streams), and restarts it with back-off when it dies (failing the
job it was running)."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from enum import Enum
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from ldl_backend.server.cache_limit import make_room
from ldl_backend.server.job_events import JobEvents
from ldl_backend.server.jobs import INTERRUPTED_ERROR, Job, JobStore
from ldl_backend.server.layer_cache import LayerCache
from ldl_backend.server.protocol import JobFailed, JobFinished, JobProgress, Ready, RunJob
from ldl_backend.server.worker import WorkerSettings, serve_jobs
from ldl_client.records import JobError, JobState

_log = logging.getLogger(__name__)

# A worker that dies within FAST_CRASH seconds of starting counts towards FAILED_AFTER crashes in a row, after which
# /health says "failed" (restarts go on at the longest back-off, so a fixed cause recovers by itself).
FAST_CRASH = 30.0
FAILED_AFTER = 3
FIRST_BACKOFF = 0.25
LONGEST_BACKOFF = 10.0


class WorkerState(str, Enum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    RESTARTING = "restarting"
    FAILED = "failed"


class Supervisor:
    def __init__(
        self, settings: WorkerSettings, jobs: JobStore, cache: LayerCache, cache_bytes: int, events: JobEvents
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._cache = cache
        self._cache_bytes = cache_bytes
        self._events = events
        self._context = multiprocessing.get_context("spawn")
        self._cancel = self._context.Event()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._state = WorkerState.STARTING
        self._current: str | None = None
        self._pid: int | None = None
        self._thread = threading.Thread(target=self._run, name="ldl-supervisor", daemon=True)

    # -- for the API ---------------------------------------------------------------------------------------
    @property
    def state(self) -> WorkerState:
        return self._state

    @property
    def worker_pid(self) -> int | None:
        return self._pid

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._cancel.set()
        self._wake.set()
        self._thread.join(timeout)

    def wake(self) -> None:
        """A job was queued."""
        self._wake.set()

    def cancel_running(self, job_id: str) -> bool:
        """Ask the worker to stop ``job_id`` between tiles; False when it is not the running job."""
        with self._lock:
            if self._current != job_id:
                return False
            self._cancel.set()
            return True

    # -- the thread ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        crashes = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            receiver, sender = self._context.Pipe(duplex=True)
            process = self._context.Process(
                target=serve_jobs, args=(self._settings, sender, self._cancel), name="ldl-worker", daemon=True
            )
            self._state = WorkerState.STARTING if crashes < FAILED_AFTER else WorkerState.FAILED
            process.start()
            sender.close()
            self._pid = process.pid
            try:
                self._drive(process, receiver)
            finally:
                receiver.close()
                process.join(2.0)
                if process.is_alive():
                    process.kill()
                    process.join()
                self._fail_current("worker_crashed")
            if self._stopping.is_set():
                return
            crashes = crashes + 1 if time.monotonic() - started < FAST_CRASH else 1
            _log.warning("the worker process exited (code %s); restarting", process.exitcode)
            self._state = WorkerState.FAILED if crashes >= FAILED_AFTER else WorkerState.RESTARTING
            self._stopping.wait(min(FIRST_BACKOFF * 2 ** (crashes - 1), LONGEST_BACKOFF))

    def _drive(self, process: BaseProcess, connection: Connection) -> None:
        """Dispatch and listen until the worker dies or the server stops."""
        ready = False
        while not self._stopping.is_set():
            if ready and self._current is None:
                self._dispatch(connection)
            self._wake.clear()
            sentinel = process.sentinel
            if not wait([connection, sentinel], timeout=0.05):
                continue
            try:
                while connection.poll():
                    message = connection.recv()
                    if isinstance(message, Ready):
                        ready = True
                        self._state = WorkerState.READY
                    else:
                        self._record(message)
            except (EOFError, OSError):
                return
            if not process.is_alive():
                return

    def _dispatch(self, connection: Connection) -> None:
        job = self._jobs.next_queued()
        if job is None:
            return
        with self._lock:
            self._cancel.clear()
            started = self._change(job.id, expect=(JobState.QUEUED,), state=JobState.RUNNING, stage="starting")
            if started is None:
                return
            self._current = job.id
        self._state = WorkerState.BUSY
        connection.send(RunJob(job.id, job.options))

    def _record(self, message: object) -> None:
        if isinstance(message, JobProgress):
            self._change(
                message.job_id,
                expect=(JobState.RUNNING,),
                done=message.done,
                total=message.total,
                stage=message.stage,
                eta_seconds=message.eta_seconds,
            )
            return
        if isinstance(message, JobFinished):
            self._change(
                message.job_id,
                expect=(JobState.RUNNING,),
                state=JobState.SUCCEEDED,
                stage="done",
                eta_seconds=0.0,
                width=message.width,
                height=message.height,
            )
            self._cache.delete_input(message.job_id)
            self._finish(message.job_id)
            self._enforce_cache_limit(message.job_id)
        elif isinstance(message, JobFailed):
            cancelled = message.code == "cancelled"
            if cancelled and self._stopping.is_set():
                # The server's own stop asked the worker to cancel (it now stops between the network's blocks, so
                # the answer can arrive before this thread ends): to the user the job was interrupted.
                self._fail_current("interrupted")
                return
            self._change(
                message.job_id,
                expect=(JobState.RUNNING,),
                state=JobState.CANCELLED if cancelled else JobState.FAILED,
                eta_seconds=None,
                error=None if cancelled else JobError(message.code, message.message, message.hint),
            )
            self._cache.delete(message.job_id)
            self._finish(message.job_id)

    def _finish(self, job_id: str) -> None:
        with self._lock:
            if self._current == job_id:
                self._current = None
        self._state = WorkerState.READY

    def _fail_current(self, code: str) -> None:
        with self._lock:
            job_id, self._current = self._current, None
        if job_id is None:
            return
        state = JobState.INTERRUPTED if self._stopping.is_set() else JobState.FAILED
        error = (
            INTERRUPTED_ERROR
            if self._stopping.is_set()
            else JobError(
                code,
                "the worker process stopped while running this job (crash or out of memory)",
                "submit it again; with a large image, try a smaller one or free some memory",
            )
        )
        self._change(job_id, expect=(JobState.RUNNING,), state=state, eta_seconds=None, error=error)
        self._cache.delete(job_id)

    def _change(self, job_id: str, **changes: Any) -> Job | None:
        """``JobStore.update``, then wake the job's event streams when it changed."""
        job = self._jobs.update(job_id, **changes)
        if job is not None:
            self._events.notify(job_id)
        return job

    def _enforce_cache_limit(self, newest: str) -> None:
        """Drop the oldest finished jobs while the cache (inputs and layers) is over its size limit."""
        make_room(self._jobs, self._cache, self._events, self._cache_bytes, keep=newest)
