"""Jobs and their SQLite store: survive a restart, but a job that was queued or running when the server stopped
comes back ``interrupted`` (never re-run, never reported done)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def final(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class JobOptions:
    """What the submitter chose (query parameters, validated). ``scale`` None = the model's; ``device`` and
    ``precision`` ``auto`` = the engine's choice; ``tile`` None = automatic (from free memory).

    Stored as JSON in the job database: fields added later need defaults, so records an older version wrote load.
    """

    model: str
    reference: str
    threshold: float
    softness: float
    alpha: str
    scale: float | None = None
    device: str = "auto"
    precision: str = "auto"
    tile: int | None = None


@dataclass(frozen=True)
class Job:
    """``done``/``total``: tiles over every pass; ``width``/``height``: the layers' size once succeeded."""

    id: str
    state: JobState
    options: JobOptions
    created: float
    updated: float
    done: int = 0
    total: int = 0
    stage: str = ""
    eta_seconds: float | None = None
    error: JobError | None = None
    width: int | None = None
    height: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state.value,
            "model": self.options.model,
            "created": self.created,
            "updated": self.updated,
            "progress": {"done": self.done, "total": self.total, "stage": self.stage, "eta_seconds": self.eta_seconds},
            "error": None if self.error is None else dataclasses.asdict(self.error),
            "width": self.width,
            "height": self.height,
        }


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    options TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT '',
    eta REAL,
    error TEXT,
    width INTEGER,
    height INTEGER
)
"""
_COLUMNS = "id, state, options, created, updated, done, total, stage, eta, error, width, height"


class JobStore:
    """Every job, in one SQLite file. Thread-safe (the API's event loop and the supervisor thread share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def interrupt_unfinished(self) -> list[str]:
        """At start: jobs a previous run left queued or running become ``interrupted``; returns their ids."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs WHERE state IN ('queued', 'running')").fetchall()
            error = json.dumps(
                {
                    "code": "interrupted",
                    "message": "the server stopped before this job finished",
                    "hint": "submit it again",
                }
            )
            self._db.execute(
                "UPDATE jobs SET state = 'interrupted', error = ?, updated = ?, eta = NULL "
                "WHERE state IN ('queued', 'running')",
                (error, time.time()),
            )
        return [row[0] for row in rows]

    def add(self, job: Job) -> None:
        with self._lock:
            self._db.execute(f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(job))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def all(self) -> list[Job]:
        """Newest first."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs ORDER BY created DESC, rowid DESC").fetchall()
        return [_job(row) for row in rows]

    def next_queued(self) -> Job | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY created, rowid LIMIT 1"
            ).fetchone()
        return None if row is None else _job(row)

    def count(self, state: JobState) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state.value,)).fetchone()[0])

    def update(self, job_id: str, *, expect: tuple[JobState, ...] | None = None, **changes: Any) -> Job | None:
        """Apply ``changes`` (Job fields) when the job exists and, with ``expect``, is in one of those states;
        returns the new job or None. The check and the write are one step, so a cancel cannot undo a finish."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            job = _job(row)
            if expect is not None and job.state not in expect:
                return None
            job = dataclasses.replace(job, updated=time.time(), **changes)
            self._db.execute(f"REPLACE INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _row(job))
            return job

    def delete(self, job_id: str, *, unless: tuple[JobState, ...] = ()) -> bool:
        """Remove the job unless it is in one of the ``unless`` states (one step); True when it was removed."""
        with self._lock:
            row = self._db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or JobState(row[0]) in unless:
                return False
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            return True


def _row(job: Job) -> tuple[Any, ...]:
    return (
        job.id,
        job.state.value,
        json.dumps(dataclasses.asdict(job.options)),
        job.created,
        job.updated,
        job.done,
        job.total,
        job.stage,
        job.eta_seconds,
        None if job.error is None else json.dumps(dataclasses.asdict(job.error)),
        job.width,
        job.height,
    )


def _job(row: tuple[Any, ...]) -> Job:
    identifier, state, options, created, updated, done, total, stage, eta, error, width, height = row
    return Job(
        identifier,
        JobState(state),
        JobOptions(**json.loads(options)),
        created,
        updated,
        done,
        total,
        stage,
        eta,
        None if error is None else JobError(**json.loads(error)),
        width,
        height,
    )
