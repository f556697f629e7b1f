"""Long work off Krita's GUI thread: a worker thread, a progress dialog with Cancel, and a QTimer on the GUI thread.

The worker never touches Qt or Krita: it reports progress (pushed to it by the backend) into a plain object the
timer reads, and its result or error is handed to callbacks on the GUI thread, where Krita's API may be used again.
The timer reads memory only; it never asks the backend anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

from .errors import Cancelled
from .qt import QProgressDialog, Qt, QTimer, QWidget

T = TypeVar("T")
Work = Callable[[threading.Event, Callable[[int, int, str], None]], T]
POLL_MS = 100


class BackgroundTask(Generic[T]):
    """Runs ``work(cancel, report)`` on a daemon thread; ``report(done, total, stage)`` may be called from it."""

    def __init__(self, work: Work[T]) -> None:
        self.cancel_event = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.progress: tuple[int, int, str] = (0, 0, "")
        self._work = work
        self._thread = threading.Thread(target=self._run, name="ldl-krita-task", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive() and self._thread.ident is not None

    def _report(self, done: int, total: int, stage: str) -> None:
        self.progress = (done, total, stage)  # one tuple assignment: the GUI thread never sees half an update

    def _run(self) -> None:
        try:
            self.result = self._work(self.cancel_event, self._report)
        except BaseException as e:  # handed to the GUI thread, which shows it
            self.error = e


class ProgressRunner(Generic[T]):
    """Shows a modal progress dialog while a ``BackgroundTask`` runs, then calls ``on_done(result)`` or
    ``on_error(error)`` on the GUI thread. ``describe(done, total, stage)`` gives the dialog's text.

    Cancel sets the task's event and waits for the work to stop (it cleans up, e.g. cancels the job), unless
    ``abandon_on_cancel``: then ``on_error(Cancelled)`` comes at once and the work's eventual result is dropped
    (for work that cannot be interrupted, like waiting for a server to start).
    """

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        work: Work[T],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None],
        describe: Callable[[int, int, str], str],
        abandon_on_cancel: bool = False,
    ) -> None:
        self.task: BackgroundTask[T] = BackgroundTask(work)
        self._abandon = abandon_on_cancel
        self._on_done, self._on_error, self._describe = on_done, on_error, describe
        self.dialog = QProgressDialog(describe(0, 0, ""), "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle(title)
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.timer = QTimer()
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    def start(self) -> None:
        self.task.start()
        self.timer.start()
        self.dialog.show()

    def cancel(self) -> None:
        self.task.cancel_event.set()
        self.dialog.setLabelText("Cancelling…")

    @property
    def active(self) -> bool:
        return self.timer.isActive()

    def _poll(self) -> None:
        if self.dialog.wasCanceled() and not self.task.cancel_event.is_set():
            # Escape, the window's close button and QProgressDialog.cancel() do not all emit canceled().
            self.cancel()
            self.dialog.show()
        done, total, stage = self.task.progress
        cancelled = self.task.cancel_event.is_set()
        if not cancelled:
            self.dialog.setMaximum(max(total, 0))
            self.dialog.setValue(min(done, total) if total > 0 else 0)
            self.dialog.setLabelText(self._describe(done, total, stage))
        abandoned = cancelled and self._abandon
        if not self.task.finished and not abandoned:
            return
        self.timer.stop()
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.close()
        if abandoned:
            self._on_error(Cancelled("cancelled", "nothing changed"))
        elif self.task.error is not None:
            self._on_error(self.task.error)
        else:
            self._on_done(cast(T, self.task.result))
