"""A word-wrapped label that keeps the height its text needs inside a scroll area."""

from __future__ import annotations

from qtpy.QtGui import QResizeEvent
from qtpy.QtWidgets import QLabel, QWidget


class WrappingLabel(QLabel):
    """``QScrollArea`` sizes its widget from size hints taken at a guessed width, so a wrapped ``QLabel`` gets the
    height of fewer lines than it shows and overlaps its neighbours; this one asks for its height at its real width."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, a0: str | None) -> None:  # noqa: N802 (Qt's name and argument)
        super().setText(a0)
        self._fit()

    def resizeEvent(self, a0: QResizeEvent | None) -> None:  # noqa: N802 (Qt's name and argument)
        super().resizeEvent(a0)
        self._fit()

    def _fit(self) -> None:
        height = self.heightForWidth(self.width()) if self.text() else 0
        if height != self.minimumHeight():
            self.setMinimumHeight(max(height, 0))
