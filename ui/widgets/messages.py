"""Error messages as the user reads them: what happened, then what to do."""

from __future__ import annotations

from qtpy.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget, title: str, message: str, hint: str = "") -> QMessageBox:
    """A window-modal message box that does not block the event loop (jobs keep reporting while it is open)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if hint:
        box.setInformativeText(hint)
    box.setObjectName("ldl-error")
    box.open()
    return box
