"""Exiting when nobody needs the server: a backend a front end started on demand goes away after ``idle_exit``
seconds with no request and no queued or running job, so it does not hold its memory after the app or plug-in is
gone. The front end's next request starts a new one (``ldl_client.connect``); jobs and layers are on disk, so no
finished job is lost."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import uvicorn

_log = logging.getLogger(__name__)

# Ticks of uvicorn's main loop (0.1 s each) between two looks at the job table.
_JOB_CHECK_TICKS = 10


class IdleExitServer(uvicorn.Server):
    """``uvicorn.Server`` that also stops after ``idle_exit`` seconds without use (None: never).

    Use is a request answered or in progress (an open event stream counts) or a job ``has_jobs`` reports; idle
    keep-alive connections do not count (uvicorn closes them after its keep-alive timeout anyway).
    """

    def __init__(self, config: uvicorn.Config, idle_exit: float | None, has_jobs: Callable[[], bool]) -> None:
        super().__init__(config)
        self._idle_exit = idle_exit
        self._has_jobs = has_jobs
        self._last_active = time.monotonic()
        self._requests_seen = 0

    async def on_tick(self, counter: int) -> bool:
        if await super().on_tick(counter):
            return True
        if self._idle_exit is None:
            return False
        now = time.monotonic()
        state = self.server_state
        if state.tasks or state.total_requests != self._requests_seen:
            self._requests_seen = state.total_requests
            self._last_active = now
        elif counter % _JOB_CHECK_TICKS == 0 and self._has_jobs():
            self._last_active = now
        if now - self._last_active < self._idle_exit:
            return False
        if self._has_jobs():
            self._last_active = now
            return False
        _log.warning(
            "no requests and no jobs for %g s: the server stops (the next client starts it again)", self._idle_exit
        )
        return True
