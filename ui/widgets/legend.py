"""The colour key of the artifact-map overlay."""

from __future__ import annotations

from qtpy.QtCore import QRect, QSize, Qt
from qtpy.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from qtpy.QtWidgets import QWidget

from ui.state.display import heat_table


class MapLegend(QWidget):
    """A bar from "detail looks real" (map 0) to "likely artifact" (map 1) in the overlay's colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = heat_table()
        self.setMinimumHeight(36)
        self.setToolTip(
            "The artifact map: how likely the generated detail is an artifact rather than real texture.\n"
            "0 = looks like real detail (kept), 1 = likely artifact (replaced by the faithful reference)."
        )

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(200, 36)

    def paintEvent(self, a0: QPaintEvent | None) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        bar = QRect(4, 2, self.width() - 8, 14)
        # Gray under the colours shows their transparency as the overlay does.
        painter.fillRect(bar, QColor(128, 128, 128))
        gradient = QLinearGradient(bar.left(), 0, bar.right(), 0)
        for index in range(0, 256, 17):
            red, green, blue, alpha = (int(v) for v in self._table[index])
            gradient.setColorAt(index / 255, QColor(red, green, blue, alpha))
        painter.fillRect(bar, gradient)
        painter.setPen(self.palette().windowText().color())
        text = QRect(4, 18, self.width() - 8, 16)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "0 real detail")
        painter.drawText(text, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "likely artifact 1")
        painter.end()
