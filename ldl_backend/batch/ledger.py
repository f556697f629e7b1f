"""The driver's bookkeeping for one run: every state change of every item goes through here into the manifest,
and from here into the progress bar and the summary. The runners only move items between workers."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tqdm import tqdm

from ldl_backend.batch.manifest import ItemRecord, ItemStatus, Manifest, WorkerTally
from ldl_backend.batch.plan import WorkItem
from ldl_backend.batch.worker import ItemOutcome

# Commit the manifest at most this often: a commit is an fsync, which on a network file system can take longer
# than a small image's upscale. Losing the last second's records after a crash only redoes those items.
_COMMIT_SECONDS = 1.0

OutcomeObserver = Callable[[ItemOutcome], None]


@dataclass(frozen=True)
class RunSummary:
    """One run's result. ``failed``: key → the last error; ``released``: items an interruption handed back
    (pending again); ``workers``: per worker, the items it finished and its time on them."""

    total: int
    done: int
    skipped: int
    failed: dict[str, str]
    released: int
    seconds: float
    workers: list[WorkerTally]
    interrupted: bool = False


class RunLedger:
    """Records the items of run ``run`` in ``manifest``. ``records``: the pending record of every item to do;
    ``retries``: tries before an item is recorded as failed; ``observer``: called after each outcome is recorded
    (tests use it to interrupt or kill a worker at a known point)."""

    def __init__(
        self,
        manifest: Manifest,
        records: Iterable[ItemRecord],
        retries: int,
        skipped: int = 0,
        observer: OutcomeObserver | None = None,
        show_progress: bool = True,
    ) -> None:
        self._manifest = manifest
        self._records = {record.path: record for record in records}
        self._retries = retries
        self._skipped = skipped
        self._observer = observer
        self._done = 0
        self._failed: dict[str, str] = {}
        self._released = 0
        self._tallies: dict[str, tuple[int, float]] = {}
        self._show_progress = show_progress
        self._started: float | None = None  # the first item's start: workers' start-up is not throughput
        self._last_commit = time.monotonic()
        self._bar: tqdm | None = None  # type: ignore[type-arg]

    def start(self, item: WorkItem, worker: str) -> None:
        """``item`` is handed to ``worker``: one more try."""
        if self._bar is None:
            self._started = time.perf_counter()
            self._bar = tqdm(
                total=len(self._records), unit="image", desc="batch", file=sys.stderr, disable=not self._show_progress
            )
        record = self._records[item.key]
        self._update(
            dataclasses.replace(
                record, status=ItemStatus.RUNNING, attempts=record.attempts + 1, worker=worker, started=time.time()
            )
        )

    def finish(self, item: WorkItem, outcome: ItemOutcome) -> bool:
        """Record ``outcome``; True when the item is to be tried again (a failure of the moment, tries left)."""
        record = self._records[item.key]
        record = dataclasses.replace(
            record, worker=outcome.worker, started=outcome.started, seconds=outcome.seconds, error=outcome.error
        )
        again = False
        if outcome.ok:
            self._update(dataclasses.replace(record, status=ItemStatus.DONE, content_hash=outcome.content_hash))
            if item.replaces is not None:
                item.replaces.unlink(missing_ok=True)  # this input's output under its earlier name
            self._done += 1
            count, seconds = self._tallies.get(outcome.worker, (0, 0.0))
            self._tallies[outcome.worker] = (count + 1, seconds + outcome.seconds)
        else:
            again = outcome.retry and record.attempts < self._retries
            status = ItemStatus.PENDING if again else ItemStatus.FAILED
            self._update(dataclasses.replace(record, status=status))
            if not again:
                self._failed[item.key] = outcome.error or "failed"
                tqdm.write(f"failed: {item.source}: {outcome.error}", file=sys.stderr)
        if not again and self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(f"{len(self._failed)} failed" if self._failed else "", refresh=False)
        if self._observer is not None:
            self._observer(outcome)
        return again

    def release(self, item: WorkItem) -> None:
        """Hand ``item`` back unfinished (an interruption): pending again, this try not counted."""
        record = self._records[item.key]
        if record.status is ItemStatus.RUNNING:
            self._update(dataclasses.replace(record, status=ItemStatus.PENDING, attempts=record.attempts - 1))
            self._released += 1

    def summary(self, *, interrupted: bool = False) -> RunSummary:
        self._manifest.commit()
        if self._bar is not None:
            self._bar.close()
        seconds = 0.0 if self._started is None else time.perf_counter() - self._started
        workers = [WorkerTally(name, count, seconds) for name, (count, seconds) in sorted(self._tallies.items())]
        return RunSummary(
            len(self._records) + self._skipped,
            self._done,
            self._skipped,
            dict(self._failed),
            self._released,
            seconds,
            workers,
            interrupted,
        )

    def _update(self, record: ItemRecord) -> None:
        self._records[record.path] = record
        self._manifest.save([record])
        if time.monotonic() - self._last_commit >= _COMMIT_SECONDS:
            self._manifest.commit()
            self._last_commit = time.monotonic()
