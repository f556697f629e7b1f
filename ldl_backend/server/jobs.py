"""Jobs and their SQLite store: survive a restart, but a job that was queued or running when the server stopped
comes back ``interrupted`` (never re-run, never reported done)."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldl_client.options import SubmitOptions
from ldl_client.records import UNFINISHED_STATES, JobError, JobInfo, JobState, Progress


@dataclass(frozen=True)
class Job:
    """A job and what the server knows of it. ``options``: what the submitter chose, parsed once at the edge.
    ``done``/``total``: work units over the whole job; ``width``/``height``: the layers' size once succeeded."""

    id: str
    state: JobState
    options: SubmitOptions
    created: float
    updated: float
    done: int = 0
    total: int = 0
    stage: str = ""
    eta_seconds: float | None = None
    error: JobError | None = None
    width: int | None = None
    height: int | None = None

    def info(self) -> JobInfo:
        """The record clients see (docs/server-api.md)."""
        return JobInfo(
            id=self.id,
            state=self.state,
            model=self.options.model,
            created=self.created,
            updated=self.updated,
            progress=Progress(self.done, self.total, self.stage, self.eta_seconds),
            error=self.error,
            width=self.width,
            height=self.height,
        )

    def to_json(self) -> dict[str, Any]:
        return self.info().to_json()


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
_UNFINISHED = "(" + ", ".join(f"'{state.value}'" for state in UNFINISHED_STATES) + ")"
INTERRUPTED_ERROR = JobError("interrupted", "the server stopped before this job finished", "submit it again")
_COLUMNS = "id, state, options, created, updated, done, total, stage, eta, error, width, height"


class JobStore:
    """Every job, in one SQLite file. Thread-safe (the API's event loop and the supervisor thread share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
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
            rows = self._db.execute(f"SELECT id FROM jobs WHERE state IN {_UNFINISHED}").fetchall()
            error = json.dumps(INTERRUPTED_ERROR.to_json())
            self._db.execute(
                f"UPDATE jobs SET state = ?, error = ?, updated = ?, eta = NULL WHERE state IN {_UNFINISHED}",
                (JobState.INTERRUPTED.value, error, time.time()),
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
                f"SELECT {_COLUMNS} FROM jobs WHERE state = ? ORDER BY created, rowid LIMIT 1", (JobState.QUEUED.value,)
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
        job.options.query(),
        job.created,
        job.updated,
        job.done,
        job.total,
        job.stage,
        job.eta_seconds,
        None if job.error is None else json.dumps(job.error.to_json()),
        job.width,
        job.height,
    )


def _job(row: tuple[Any, ...]) -> Job:
    identifier, state, options, created, updated, done, total, stage, eta, error, width, height = row
    return Job(
        identifier,
        JobState(state),
        _options(options),
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


def _options(stored: str) -> SubmitOptions:
    """Options as stored: the query string, or the JSON object versions before 0.2 wrote (``auto`` for automatic
    device and precision, null for an automatic tile or the model's own scale)."""
    if not stored.startswith("{"):
        return SubmitOptions.from_query(urllib.parse.parse_qsl(stored, keep_blank_values=True))
    fields: dict[str, Any] = json.loads(stored)
    return SubmitOptions.from_query((name, str(value)) for name, value in fields.items() if value is not None)
