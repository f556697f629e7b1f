"""Running one upscale job on the backend without blocking the event loop.

The blocking client calls (upload, the event stream, the layer downloads) run on a Python thread; results come
back as Qt signals, which Qt delivers on the GUI thread.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from qtpy.QtCore import QObject

from ldl_client import Client, ClientError, JobInfo, JobState, RawImage, SubmitOptions
from ui.qt import Signal
from ui.state.layers import ResultLayers


@dataclass(frozen=True)
class Failure:
    """What went wrong, as the user should read it."""

    code: str
    message: str
    hint: str

    @classmethod
    def of(cls, error: ClientError) -> Failure:
        return cls(getattr(error, "code", type(error).__name__), error.message, error.hint)


class JobRunner(QObject):
    """Submits a job, follows it and fetches its layers; one job at a time."""

    progress = Signal(object)  # JobInfo
    succeeded = Signal(object)  # ResultLayers
    failed = Signal(object)  # Failure
    cancelled = Signal()
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._job_id: str | None = None
        self._cancel_requested = False

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def job_id(self) -> str | None:
        return self._job_id

    def start(self, client: Client, image: bytes | RawImage, options: SubmitOptions) -> None:
        """Start a job; raises ``RuntimeError`` when one is still running (cancel it first)."""
        if self.busy:
            raise RuntimeError("a job is still running; cancel it first")
        with self._lock:
            self._client, self._job_id, self._cancel_requested = client, None, False
        self._thread = threading.Thread(target=self._run, args=(client, image, options), daemon=True, name="ldl-job")
        self.busy_changed.emit(True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the backend to stop the job; ``cancelled`` follows when it has."""
        with self._lock:
            self._cancel_requested = True
            client, job_id = self._client, self._job_id
        if client is not None and job_id is not None:
            threading.Thread(target=_cancel_quietly, args=(client, job_id), daemon=True).start()

    def wait_idle(self, timeout: float | None = None) -> None:
        """Block until the worker thread has finished (for shutdown and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, client: Client, image: bytes | RawImage, options: SubmitOptions) -> None:
        try:
            job = client.submit(image, options)
            with self._lock:
                self._job_id = job.id
                cancel_now = self._cancel_requested
            if cancel_now:
                _cancel_quietly(client, job.id)
            final = client.wait(job.id, on_progress=self.progress.emit)
            self._finish(client, final)
        except ClientError as error:
            self.failed.emit(Failure.of(error))
        except OSError as error:
            self.failed.emit(Failure("connection", f"the backend could not be reached: {error}", "try again"))
        finally:
            self.busy_changed.emit(False)

    def _finish(self, client: Client, job: JobInfo) -> None:
        if job.state is JobState.SUCCEEDED:
            layers = [client.layer(job.id, name, "raw") for name in ("detail", "reference", "map")]
            self.succeeded.emit(ResultLayers.from_raw(job.id, *layers))
        elif job.state is JobState.CANCELLED:
            self.cancelled.emit()
        else:
            error = job.error
            if error is None:
                self.failed.emit(Failure(job.state.value, f"the job ended {job.state.value}", "run it again"))
            else:
                self.failed.emit(Failure(error.code, error.message, error.hint))


def _cancel_quietly(client: Client, job_id: str) -> None:
    # An error here means the job is already final: the runner reports how it ended.
    with contextlib.suppress(ClientError):
        client.cancel(job_id)
