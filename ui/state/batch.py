"""A queue of files upscaled one after the other with the same settings, each blend written to a folder."""

from __future__ import annotations

import contextlib
import enum
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from qtpy.QtCore import QObject

from ldl_backend.errors import LdlError
from ldl_backend.imageio import ImageData, read_image
from ldl_client import Client, ClientError, JobState, SubmitOptions
from ui.qt import Signal
from ui.state.export import ExportOptions, export_image
from ui.state.layers import split_alpha
from ui.state.raw_arrays import raw_to_array


class ItemState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BatchItem:
    source: Path
    state: ItemState = ItemState.QUEUED
    message: str = ""
    output: Path | None = None


def output_path(source: Path, folder: Path, options: ExportOptions) -> Path:
    return folder / f"{source.stem}_ldl{options.format.suffix}"


class BatchQueue(QObject):
    """Runs its items in order on a thread; ``item_changed(index)`` after each change, ``finished`` at the end.

    Every item uses the same job options (model, reference, threshold, softness), so one threshold applies to the
    whole folder. An existing output file is never replaced unless the export options say so.
    """

    item_changed = Signal(int)
    progress = Signal(int, object)  # index, JobInfo
    finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[BatchItem] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._job: tuple[Client, str] | None = None

    @property
    def items(self) -> list[BatchItem]:
        with self._lock:
            return list(self._items)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add(self, paths: list[Path]) -> None:
        with self._lock:
            known = {item.source for item in self._items}
            self._items += [BatchItem(path) for path in paths if path not in known]
        for index in range(len(self._items)):
            self.item_changed.emit(index)

    def clear_finished(self) -> None:
        with self._lock:
            self._items = [item for item in self._items if item.state in (ItemState.QUEUED, ItemState.RUNNING)]

    def start(self, client: Client, job_options: SubmitOptions, folder: Path, export: ExportOptions) -> None:
        if self.running:
            raise RuntimeError("the batch is already running")
        folder.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(client, job_options, folder, export), daemon=True, name="ldl-batch"
        )
        self._thread.start()

    def cancel(self) -> None:
        """Stop after cancelling the running job; the queued items stay queued."""
        self._stop.set()
        job = self._job
        if job is not None:
            with contextlib.suppress(ClientError):
                job[0].cancel(job[1])

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, client: Client, job_options: SubmitOptions, folder: Path, export: ExportOptions) -> None:
        try:
            index = self._next_queued()
            while index is not None and not self._stop.is_set():
                self._process(index, client, job_options, folder, export)
                index = self._next_queued()
        finally:
            self._job = None
            self.finished.emit()

    def _next_queued(self) -> int | None:
        with self._lock:
            return next((i for i, item in enumerate(self._items) if item.state is ItemState.QUEUED), None)

    def _set(self, index: int, **changes: object) -> None:
        with self._lock:
            self._items[index] = replace(self._items[index], **changes)  # type: ignore[arg-type]
        self.item_changed.emit(index)

    def _process(
        self, index: int, client: Client, job_options: SubmitOptions, folder: Path, export: ExportOptions
    ) -> None:
        source = self.items[index].source
        target = output_path(source, folder, export)
        self._set(index, state=ItemState.RUNNING, message="")
        try:
            if target.exists() and not export.overwrite:
                raise FileExistsError(f"{target.name} already exists in the output folder")
            image = read_image(source)
            job = client.submit(source.read_bytes(), job_options)
            self._job = (client, job.id)
            final = client.wait(job.id, on_progress=lambda info: self.progress.emit(index, info))
            self._job = None
            if final.state is JobState.CANCELLED:
                self._set(index, state=ItemState.CANCELLED, message="cancelled")
                return
            if final.state is not JobState.SUCCEEDED:
                error = final.error
                message = f"{error.message} ({error.hint})" if error else f"the job ended {final.state.value}"
                self._set(index, state=ItemState.FAILED, message=message)
                return
            colour, alpha = split_alpha(raw_to_array(client.layer(job.id, "blend", "raw")))
            result = ImageData(colour, alpha, image.metadata)
            export_image(result, target, export)
            client.delete(job.id)
            self._set(index, state=ItemState.DONE, message=target.name, output=target)
        except (ClientError, LdlError) as error:
            self._set(index, state=ItemState.FAILED, message=f"{error.message} ({error.hint})")
        except (OSError, ValueError) as error:
            self._set(index, state=ItemState.FAILED, message=str(error))
