"""Stand-ins for the worker's main loop, for tests that patch what the supervisor spawns.

Module-level functions (the spawned process imports them by name). Each takes ``serve_jobs``'s arguments and is
driven by a file beside the server's cache folder: ``release-worker`` (``release_file``) switches the first two to
the real worker loop; ``pause-stage`` (``pause_file``) names the stage where ``pause_at_stage`` holds a job.
"""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import cast

from ldl_backend.server.protocol import JobProgress
from ldl_backend.server.worker import WorkerSettings, serve_jobs


def release_file(home: Path) -> Path:
    """For a server started by ``start_server(home)`` (its cache folder is ``home / "cache"``)."""
    return home / "release-worker"


def _released(settings: WorkerSettings) -> bool:
    return release_file(settings.cache_dir.parent).exists()


def crash_until_released(settings: WorkerSettings, connection: Connection, cancel_event: Event) -> None:
    """Exit at once, before saying ready (a broken install), until released; then the real worker."""
    if not _released(settings):
        os._exit(3)
    serve_jobs(settings, connection, cancel_event)


def start_when_released(settings: WorkerSettings, connection: Connection, cancel_event: Event) -> None:
    """A worker that stays "starting" (a slow model load, a cold disk) until released; then the real worker."""
    while not _released(settings):
        time.sleep(0.02)
    serve_jobs(settings, connection, cancel_event)


def pause_file(home: Path) -> Path:
    """For ``pause_at_stage``: the stage label to stop at, one line, written by the test (absent: never stop)."""
    return home / "pause-stage"


# How long a paused job waits for the test's cancel before it carries on (a failing test, not a hung one).
PAUSE_LIMIT = 60.0


class _PausingConnection:
    """The worker's end of the pipe, which stops the job right after it reports the stage in ``pause_file`` (the
    server has recorded it) until the server asks to cancel: a cancel that lands inside that stage, every time."""

    def __init__(self, connection: Connection, stage_file: Path, cancel_event: Event) -> None:
        self._connection = connection
        self._stage_file = stage_file
        self._cancel = cancel_event

    def recv(self) -> object:
        return self._connection.recv()

    def send(self, message: object) -> None:
        self._connection.send(message)
        if isinstance(message, JobProgress) and message.stage == self._pause_stage():
            self._cancel.wait(PAUSE_LIMIT)

    def _pause_stage(self) -> str | None:
        try:
            return self._stage_file.read_text("utf-8").strip()
        except FileNotFoundError:
            return None


def pause_at_stage(settings: WorkerSettings, connection: Connection, cancel_event: Event) -> None:
    """The real worker loop, over a pipe that pauses each job at the stage named in ``pause_file`` until cancelled."""
    pausing = _PausingConnection(connection, pause_file(settings.cache_dir.parent), cancel_event)
    serve_jobs(settings, cast(Connection, pausing), cancel_event)
