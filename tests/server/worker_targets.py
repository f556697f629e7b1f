"""Stand-ins for the worker's main loop, for tests that patch what the supervisor spawns.

Module-level functions (the spawned process imports them by name). Each takes ``serve_jobs``'s arguments; a file
``release-worker`` beside the server's cache folder (``release_file``) switches it to the real worker loop.
"""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

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
