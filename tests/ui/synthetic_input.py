"""Mouse input delivered to a widget as Qt delivers it, for the tests, the latency benchmark and the screenshot script
(QTest's mouseMove does not report held buttons on every platform)."""

from __future__ import annotations

from qtpy.QtCore import QEvent, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtWidgets import QApplication, QWidget


def send_mouse(
    widget: QWidget,
    kind: QEvent.Type,
    pos: QPointF,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """One mouse event at ``pos`` (widget coordinates): ``button`` changed, ``buttons`` held after it."""
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, points: list[QPointF], button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    """Press at the first point, move through the rest with ``button`` held, release at the last."""
    send_mouse(widget, QEvent.Type.MouseButtonPress, points[0], button, button)
    for point in points[1:]:
        send_mouse(widget, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, button)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, points[-1], button, Qt.MouseButton.NoButton)
