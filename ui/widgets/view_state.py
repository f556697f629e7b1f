"""The zoom and pan one or more canvases share, so that synchronised views move together."""

from __future__ import annotations

import math

from qtpy.QtCore import QObject, QPointF, QRectF, QSize

from ui.qt import Signal

MIN_ZOOM = 1 / 64
MAX_ZOOM = 64.0


def clamp_zoom(zoom: float) -> float:
    """``zoom`` limited to [MIN_ZOOM, MAX_ZOOM]; raises ValueError for NaN or a non-positive zoom."""
    if math.isnan(zoom) or zoom <= 0:
        raise ValueError(f"zoom must be a positive number, got {zoom!r}")
    return min(max(zoom, MIN_ZOOM), MAX_ZOOM)


class ViewState(QObject):
    """Zoom (screen pixels per image pixel) and the image point shown at the centre of each canvas.

    Pure state: canvases read it, write it through :meth:`set`, and repaint on :attr:`changed`. The centre is in
    continuous image coordinates (pixel row i, column j covers x in [j, j+1), y in [i, i+1)), so a canvas of any
    size shows the same point in its middle.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._zoom = 1.0
        self._center = QPointF(0.0, 0.0)

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def center(self) -> QPointF:
        # A copy: QPointF is mutable, and a caller changing ours in place would bypass `changed`.
        return QPointF(self._center)

    def set(self, zoom: float, center: QPointF) -> None:
        """Zoom (clamped to [1/64, 64]) and centre; emits ``changed`` only when either really changes.

        Raises ValueError for a NaN or non-positive zoom or a non-finite centre.
        """
        if not (math.isfinite(center.x()) and math.isfinite(center.y())):
            raise ValueError(f"center must be finite, got ({center.x()}, {center.y()})")
        zoom = clamp_zoom(zoom)
        if zoom == self._zoom and center.x() == self._center.x() and center.y() == self._center.y():
            return
        self._zoom = zoom
        self._center = QPointF(center)
        self.changed.emit()


class ViewTransform:
    """The image → widget mapping of one canvas: ``widget = (image - center) * zoom + widget_size / 2``."""

    __slots__ = ("_center", "_half", "_zoom")

    def __init__(self, zoom: float, center: QPointF, widget_width: float, widget_height: float) -> None:
        self._zoom = zoom
        self._center = QPointF(center)
        self._half = QPointF(widget_width / 2, widget_height / 2)

    @property
    def zoom(self) -> float:
        return self._zoom

    def to_widget(self, image_pos: QPointF) -> QPointF:
        return (image_pos - self._center) * self._zoom + self._half

    def to_image(self, widget_pos: QPointF) -> QPointF:
        return (widget_pos - self._half) / self._zoom + self._center

    def rect_to_widget(self, image_rect: QRectF) -> QRectF:
        return QRectF(self.to_widget(image_rect.topLeft()), self.to_widget(image_rect.bottomRight()))

    def rect_to_image(self, widget_rect: QRectF) -> QRectF:
        return QRectF(self.to_image(widget_rect.topLeft()), self.to_image(widget_rect.bottomRight()))

    def zoomed_about(self, factor: float, widget_pos: QPointF) -> tuple[float, QPointF]:
        """Zoom times ``factor`` (> 0, result clamped) and the centre that keeps ``widget_pos`` on its image point."""
        if not factor > 0:
            raise ValueError(f"zoom factor must be positive, got {factor}")
        zoom = clamp_zoom(self._zoom * factor)
        return zoom, self.to_image(widget_pos) - (widget_pos - self._half) / zoom


def fitted_view(image_size: QSize, widget_size: QSize, margin: int) -> tuple[float, QPointF]:
    """Zoom and centre that show all of a non-empty image, centred, with ``margin`` widget pixels around it."""
    width = max(1, widget_size.width() - 2 * margin)
    height = max(1, widget_size.height() - 2 * margin)
    zoom = clamp_zoom(min(width / image_size.width(), height / image_size.height()))
    return zoom, QPointF(image_size.width() / 2, image_size.height() / 2)
