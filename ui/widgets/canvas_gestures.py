"""What a wheel turn, trackpad scroll, pinch or zoom key asks of a canvas's view, decided apart from the widget."""

from __future__ import annotations

from dataclasses import dataclass

from qtpy.QtCore import QPointF, Qt
from qtpy.QtGui import QNativeGestureEvent, QWheelEvent

WHEEL_STEPS_PER_DOUBLING = 480  # angleDelta units: four notches of a 120-unit wheel double the zoom
KEY_ZOOM_FACTOR = 2**0.5


@dataclass(frozen=True)
class ZoomBy:
    """Multiply the zoom by ``factor`` (> 0), keeping the image point under widget point ``at`` in place."""

    factor: float
    at: QPointF


@dataclass(frozen=True)
class PanBy:
    """Move the image by ``delta`` widget pixels."""

    delta: QPointF


def wheel_gesture(event: QWheelEvent) -> ZoomBy | PanBy | None:
    """A wheel zooms about the cursor; a trackpad's two-finger scroll (pixelDelta) pans, or zooms with Ctrl.

    Trackpads on macOS also fill angleDelta, so pixelDelta decides; a horizontal-only wheel does nothing.
    """
    pixels = event.pixelDelta()
    if not pixels.isNull():
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return ZoomBy(2 ** (pixels.y() / WHEEL_STEPS_PER_DOUBLING), event.position())
        return PanBy(QPointF(pixels))  # the image follows the fingers
    steps = event.angleDelta().y()
    return ZoomBy(2 ** (steps / WHEEL_STEPS_PER_DOUBLING), event.position()) if steps else None


def pinch_gesture(event: QNativeGestureEvent) -> ZoomBy | None:
    """A pinch's value is the relative change of scale since its last event (0.1: 10 % larger)."""
    if event.gestureType() != Qt.NativeGestureType.ZoomNativeGesture or event.value() <= -1:
        return None
    return ZoomBy(1 + event.value(), event.position())


def key_gesture(key: int, widget_centre: QPointF) -> ZoomBy | None:
    """``+`` (or ``=``, the same key unshifted) and ``-`` zoom about the widget's centre."""
    if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
        return ZoomBy(KEY_ZOOM_FACTOR, widget_centre)
    if key == Qt.Key.Key_Minus:
        return ZoomBy(1 / KEY_ZOOM_FACTOR, widget_centre)
    return None
