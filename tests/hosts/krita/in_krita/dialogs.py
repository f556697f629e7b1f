"""Krita's modal dialogs while a test holds the GUI thread: the ones a test expects are answered by its handler, any
other is recorded and closed, so that a dialog fails a test instead of hanging the headless Krita.

A timer polls ``QApplication.activeModalWidget()``; it fires inside the nested event loop of ``exec()`` too, which is
where a modal dialog would otherwise wait for a click forever. Progress dialogs are left alone: they close
themselves when their work is done.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QTimer  # pyright: ignore[reportMissingImports]
from PyQt5.QtWidgets import (  # pyright: ignore[reportMissingImports]
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QMessageBox,
    QProgressDialog,
)

POLL_MS = 100
Handler = Callable[[Any], bool]  # gets the modal widget; True when it answered it


def describe(widget: Any) -> str:
    """A modal widget in words: its class, title and text (a message box's hint included)."""
    parts = [type(widget).__name__, repr(widget.windowTitle())]
    if isinstance(widget, QMessageBox):
        parts += [repr(widget.text()), repr(widget.informativeText())]
    else:
        parts += [repr(label.text()) for label in widget.findChildren(QLabel) if label.text()]
    return " ".join(parts)


def choose(dialog: Any, value: str) -> bool:
    """Select the item whose data is ``value`` in whichever of the dialog's combo boxes has one."""
    for combo in dialog.findChildren(QComboBox):
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)
            return True
    return False


class Dialogs:
    def __init__(self) -> None:
        self.seen: list[str] = []  # dialogs nobody expected, and errors of the handlers
        self.handlers: list[Handler] = []
        self._timer = QTimer()
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen

    def _poll(self) -> None:
        try:  # nothing may escape into Krita's event loop
            widget = QApplication.activeModalWidget()
            if widget is None or isinstance(widget, QProgressDialog):
                return
            for handler in list(self.handlers):
                if handler(widget):
                    return
            self.seen.append(describe(widget))
            if isinstance(widget, QDialog):
                widget.reject()
            else:
                widget.close()
        except BaseException:
            self.seen.append(f"the dialog watcher failed: {traceback.format_exc()}")
