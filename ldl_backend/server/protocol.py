"""Messages between the API process and the worker process (pickled over a multiprocessing pipe)."""

from __future__ import annotations

from dataclasses import dataclass

from ldl_client.options import SubmitOptions


@dataclass(frozen=True)
class RunJob:
    """API → worker: upscale the input saved for ``job_id`` in the cache and write its layers there."""

    job_id: str
    options: SubmitOptions


@dataclass(frozen=True)
class Ready:
    """Worker → API: imports done, waiting for jobs."""

    pid: int


@dataclass(frozen=True)
class JobProgress:
    job_id: str
    done: int
    total: int
    stage: str
    eta_seconds: float | None


@dataclass(frozen=True)
class JobFinished:
    """The layers are in the cache; ``width``/``height`` is their size."""

    job_id: str
    width: int
    height: int


@dataclass(frozen=True)
class JobFailed:
    """``code`` ``cancelled`` when the job was cancelled."""

    job_id: str
    code: str
    message: str
    hint: str


WorkerMessage = Ready | JobProgress | JobFinished | JobFailed
