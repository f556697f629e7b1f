"""Progress and cancellation: one small interface the engine polls between tiles, and the progress of a whole job
made of several stages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ldl_backend.errors import LdlError


class CancelledError(LdlError):
    code = "cancelled"

    def __init__(self) -> None:
        super().__init__("the job was cancelled; no output was written", "")


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of work after ``elapsed`` seconds (tiles of one upscale, or a whole job's units from
    ``StagedProgress``); ``stage`` names the pass or stage (e.g. "colour", "alpha", "reference 3/8")."""

    done: int
    total: int
    elapsed: float
    stage: str = ""
    partial: float = 0.0  # share of the next unit already done, reported from inside a long tile

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

    def within_tile(self, stage: str, fraction: float) -> None:
        """Between two blocks of the network inside a tile: a chance to cancel, and the share of the tile done."""
        self.check()
        if self.callback is not None:
            elapsed = time.perf_counter() - self._started
            self.callback(Progress(self._done, self.total, elapsed, stage, partial=fraction))

    def tile_done(self, stage: str) -> None:
        self._done += 1
        if self.callback is not None:
            self.callback(Progress(self._done, self.total, time.perf_counter() - self._started, stage))


@dataclass(frozen=True)
class Stage:
    """One stage of a job and its share of the work in ``units``: tile passes of a network, or for a whole-image step
    the tile passes it costs about as much as."""

    name: str
    units: float

    def __post_init__(self) -> None:
        if not self.units > 0:
            raise ValueError(f"stage {self.name!r} needs some work, not {self.units} units")


class StagedProgress:
    """Progress over a whole job made of ``stages`` run in order (e.g. detail, reference, map, blend).

    ``done``/``total`` count units over the whole job, all planned at the start: the fraction only grows, and
    ``done == total`` only once the last stage ends. ``stage`` is the current stage's label, and the ETA
    (``Progress.remaining``) comes from the rate measured over the whole job so far.
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        callback: ProgressCallback | None,
        clock: Callable[[], float] = time.perf_counter,
        *,
        steps_per_unit: int = 1,
    ) -> None:
        if len({stage.name for stage in stages}) != len(stages):
            raise ValueError(f"stage names repeat: {[stage.name for stage in stages]}")
        if steps_per_unit < 1:
            raise ValueError(f"steps_per_unit must be at least 1, not {steps_per_unit}")
        # Reported done/total count steps: ``steps_per_unit`` per unit, so a stage of one long tile still moves.
        self._steps = steps_per_unit
        self._spans: dict[str, tuple[int, int]] = {}
        start = 0
        for stage in stages:
            steps = max(1, round(stage.units * steps_per_unit))  # a light stage still moves the bar once
            self._spans[stage.name] = (start, steps)
            start += steps
        self.total = start
        self._callback = callback
        self._clock = clock
        self._started = clock()
        self._done = 0
        self._label: str | None = None

    def start(self, name: str, label: str | None = None) -> None:
        """Enter stage ``name``: whatever the stages before it left unreported counts as done now."""
        self._move(self._spans[name][0], label or name)

    def advance(self, name: str, done: float, label: str | None = None) -> None:
        """``done`` of stage ``name``'s units are done (clamped to the stage; progress never goes back)."""
        start, steps = self._spans[name]
        done_steps = int(done * self._steps + 1e-9)  # the tolerance keeps 3 × (1/3) from rounding down to 0
        self._move(start + min(max(done_steps, 0), steps), label or name)

    def finish(self, name: str, label: str | None = None) -> None:
        """Stage ``name`` is complete."""
        start, steps = self._spans[name]
        self._move(start + steps, label or name)

    def tiles(self, name: str, label: Callable[[str], str] | None = None) -> ProgressCallback:
        """A callback for a nested tile count (``upscale_image``'s) that runs stage ``name``: its done of total maps
        proportionally onto the stage's units; ``label`` turns its pass name (``colour``, ``alpha``) into a label."""
        units = self._spans[name][1] / self._steps

        def report(update: Progress) -> None:
            done = units if update.total <= 0 else (update.done + update.partial) * units / update.total
            self.advance(name, done, name if label is None else label(update.stage))

        return report

    def _move(self, done: int, label: str) -> None:
        done = max(self._done, min(done, self.total))
        if (done, label) == (self._done, self._label):
            return  # nothing new to say
        self._done, self._label = done, label
        if self._callback is not None:
            self._callback(Progress(done, self.total, self._clock() - self._started, label))
