"""Progress and cancellation: one small interface the engine polls between tiles."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ldl_backend.errors import LdlError


class CancelledError(LdlError):
    code = "cancelled"

    def __init__(self) -> None:
        super().__init__("the job was cancelled; no output was written", "")


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` tiles after ``elapsed`` seconds; ``stage`` names the pass (e.g. "colour", "alpha")."""

    done: int
    total: int
    elapsed: float
    stage: str = ""

    @property
    def remaining(self) -> float | None:
        """Estimated seconds left (None before the first tile is done)."""
        if self.done == 0:
            return None
        return self.elapsed / self.done * (self.total - self.done)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Set from any thread; the engine checks it between tiles and raises ``CancelledError``."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError()


@dataclass
class ProgressTracker:
    """Counts tiles across the passes of one job and forwards ``Progress`` to an optional callback."""

    total: int
    callback: ProgressCallback | None = None
    cancel: CancelToken | None = None

    def __post_init__(self) -> None:
        self._started = time.perf_counter()
        self._done = 0

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def tile_done(self, stage: str) -> None:
        self._done += 1
        if self.callback is not None:
            self.callback(Progress(self._done, self.total, time.perf_counter() - self._started, stage))
