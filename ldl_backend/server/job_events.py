"""Wake-ups for the job event streams: whoever records a change to a job (the supervisor's thread, a route on the
event loop) calls ``notify(job_id)`` after writing it, and every ``/events`` stream following that job wakes at once
and reads it, instead of polling the job database.

One ``JobEvents`` per server, built in ``app.build_context`` and shared through ``ServerContext`` and the supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


class JobWaiter:
    """One stream's wake-up flag: set from any thread by ``JobEvents.notify``, awaited on the stream's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Thread-safe (the flag belongs to the loop, so the loop sets it)."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken (now or since the last wait) within ``timeout`` seconds, False after ``timeout``.

        The flag is cleared on the way out, so read the job *after* this returns: a change recorded after that read
        wakes the next wait.
        """
        if not self._event.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        # Read the flag rather than trust the timeout: a wake-up can land while wait_for unwinds.
        woken = self._event.is_set()
        self._event.clear()
        return woken


class JobEvents:
    """The waiters of every followed job. ``notify`` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[JobWaiter]] = {}

    @contextlib.contextmanager
    def follow(self, job_id: str) -> Iterator[JobWaiter]:
        """A waiter woken by every ``notify(job_id)`` while the block runs (call it on the stream's event loop)."""
        waiter = JobWaiter(asyncio.get_running_loop())
        with self._lock:
            self._waiters.setdefault(job_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            with self._lock:
                waiters = self._waiters.get(job_id, set())
                waiters.discard(waiter)
                if not waiters:
                    self._waiters.pop(job_id, None)

    def notify(self, job_id: str) -> None:
        """Job ``job_id`` changed (or was deleted): wake everyone following it."""
        with self._lock:
            waiters = tuple(self._waiters.get(job_id, ()))
        for waiter in waiters:
            waiter.wake()

    def followers(self, job_id: str) -> int:
        """How many streams follow ``job_id`` now."""
        with self._lock:
            return len(self._waiters.get(job_id, ()))
