"""The batch manifest: one SQLite file in the output folder recording every item of every run.

Only the driver (the process running ``ldl batch``) opens it, under the folder's lock: workers report results to
the driver, so SQLite never sees two writers, and the file can live on a network file system (SQLite's rollback
journal, not WAL, which needs shared memory between processes on one host).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from enum import Enum
from pathlib import Path
from types import TracebackType

from ldl_backend.errors import LdlError

MANIFEST_NAME = "ldl-batch.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    path TEXT PRIMARY KEY,      -- the input, relative to the input folder (POSIX separators)
    destination TEXT NOT NULL,  -- the output, relative to the output folder
    size INTEGER NOT NULL,      -- the input's size and mtime when it was hashed: unchanged, it needs no new hash
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT,          -- sha256 of the input (NULL until a worker read it)
    settings_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    worker TEXT,
    started REAL,               -- when the last attempt began (seconds since the epoch)
    seconds REAL,               -- the worker's time on it (read, upscale, write)
    run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    input TEXT NOT NULL,
    settings TEXT NOT NULL,
    workers TEXT NOT NULL,
    outcome TEXT NOT NULL
);
"""


class ItemStatus(str, Enum):
    PENDING = "pending"  # to do (new, changed, released by an interrupted run)
    RUNNING = "running"  # handed to a worker; seen at start-up, it means an earlier driver died mid-run
    DONE = "done"  # the output is complete and in place
    FAILED = "failed"  # gave up: a bad input, or --retries failures in a row


@dataclass(frozen=True)
class ItemRecord:
    path: str
    destination: str
    size: int
    mtime_ns: int
    content_hash: str | None
    settings_hash: str
    status: ItemStatus
    attempts: int = 0
    error: str | None = None
    worker: str | None = None
    started: float | None = None
    seconds: float | None = None
    run: int = 0  # the run that last changed it


@dataclass(frozen=True)
class RunRecord:
    id: int
    started: float
    finished: float | None
    input: str
    settings: str
    workers: str
    outcome: str  # running, finished, interrupted, stopped (an error ended it)


@dataclass(frozen=True)
class WorkerTally:
    """What one worker finished in one run: ``items`` done in ``seconds`` of its own time."""

    worker: str
    items: int
    seconds: float


_COLUMNS = ", ".join(field.name for field in fields(ItemRecord))
_PLACEHOLDERS = ", ".join("?" for _ in fields(ItemRecord))


class Manifest:
    """The manifest of the batch in ``folder`` (created on first use). Writes wait for ``commit``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / MANIFEST_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as error:
            raise LdlError(
                f"cannot use the batch manifest {self.path}: {error}",
                "check that the output folder is writable; a damaged manifest can be moved away (every item "
                "is then redone)",
            ) from error

    def __enter__(self) -> Manifest:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    def items(self) -> dict[str, ItemRecord]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM items ORDER BY path")
        return {row[0]: _record(row) for row in rows}

    def save(self, records: Iterable[ItemRecord]) -> None:
        rows = [(*astuple(record)[:6], record.status.value, *astuple(record)[7:]) for record in records]
        self._db.executemany(f"INSERT OR REPLACE INTO items ({_COLUMNS}) VALUES ({_PLACEHOLDERS})", rows)

    def commit(self) -> None:
        self._db.commit()

    def begin_run(self, input_folder: Path, settings: str, workers: str) -> int:
        cursor = self._db.execute(
            "INSERT INTO runs (started, input, settings, workers, outcome) VALUES (?, ?, ?, ?, 'running')",
            (time.time(), str(input_folder), settings, workers),
        )
        self._db.commit()
        return int(cursor.lastrowid or 0)  # an INSERT into a rowid table always sets it

    def end_run(self, run: int, outcome: str, workers: str) -> None:
        self._db.execute(
            "UPDATE runs SET finished = ?, outcome = ?, workers = ? WHERE id = ?", (time.time(), outcome, workers, run)
        )
        self._db.commit()

    def last_run(self) -> RunRecord | None:
        row = self._db.execute(
            "SELECT id, started, finished, input, settings, workers, outcome FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return None if row is None else RunRecord(*row)

    def tallies(self, run: int) -> list[WorkerTally]:
        """Per worker, the items it finished in ``run`` and its time on them."""
        rows = self._db.execute(
            "SELECT worker, COUNT(*), SUM(seconds) FROM items WHERE run = ? AND status = 'done' "
            "GROUP BY worker ORDER BY worker",
            (run,),
        )
        return [WorkerTally(worker or "?", count, seconds or 0.0) for worker, count, seconds in rows]


def _record(row: tuple[object, ...]) -> ItemRecord:
    values = list(row)
    values[6] = ItemStatus(values[6])
    return ItemRecord(*values)  # type: ignore[arg-type]  # the columns are ItemRecord's fields, in order
