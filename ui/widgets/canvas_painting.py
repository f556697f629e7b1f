"""How a canvas draws: checkerboard, the visible part of each image layer, the split divider, the brush."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from qtpy.QtCore import QPointF, QRect, QRectF, Qt
from qtpy.QtGui import QBrush, QColor, QFontMetrics, QImage, QPainter, QPen

from ui.widgets.canvas_layers import Layer
from ui.widgets.view_state import ViewTransform

BACKGROUND = QColor(43, 43, 43)
_CHECKER_LIGHT = QColor(204, 204, 204)
_CHECKER_DARK = QColor(153, 153, 153)
_CHECKER_CELL = 8  # screen pixels: transparency reads as a pattern at every zoom
_LABEL_MARGIN = 8


@functools.cache
def _checker_brush() -> QBrush:
    tile = QImage(2 * _CHECKER_CELL, 2 * _CHECKER_CELL, QImage.Format.Format_RGB32)
    tile.fill(_CHECKER_LIGHT)
    painter = QPainter(tile)
    painter.fillRect(0, 0, _CHECKER_CELL, _CHECKER_CELL, _CHECKER_DARK)
    painter.fillRect(_CHECKER_CELL, _CHECKER_CELL, _CHECKER_CELL, _CHECKER_CELL, _CHECKER_DARK)
    painter.end()
    return QBrush(tile)


def paint_side(
    painter: QPainter, clip: QRect, transform: ViewTransform, image_rect: QRect, layers: Sequence[Layer]
) -> None:
    """Draw ``layers`` (the first one under the others) inside widget rect ``clip`` only.

    Each layer is stretched over ``image_rect`` (the main image's pixels), so a "before" image of another size
    lines up with the main one. Only the pixels that ``clip`` shows are read: the source rect is the clip mapped
    to the image, widened to whole pixels so that nearest-neighbour pixels stay square and aligned at any zoom.
    """
    if clip.isEmpty() or not layers or image_rect.isEmpty():
        return
    area = transform.rect_to_widget(QRectF(image_rect)).intersected(QRectF(clip))
    if area.isEmpty():
        return
    source = transform.rect_to_image(area).toAlignedRect().intersected(image_rect)
    if source.isEmpty():
        return
    target = transform.rect_to_widget(QRectF(source))
    painter.save()
    painter.setClipRect(clip)
    painter.fillRect(area, _checker_brush())
    for layer in layers:
        if layer.opacity <= 0:
            continue
        stretch_x = layer.image.width() / image_rect.width()
        stretch_y = layer.image.height() / image_rect.height()
        zoom = transform.zoom / max(stretch_x, stretch_y)  # screen pixels per pixel of this layer
        # Smooth below 1:1 (no aliasing when shrinking); nearest at 1:1 and above, for pixel peeping.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, zoom < 1)
        image, sx, sy = layer.pyramid.level_for(zoom)
        sx, sy = sx * stretch_x, sy * stretch_y
        painter.setOpacity(layer.opacity)
        painter.drawImage(
            target, image, QRectF(source.x() * sx, source.y() * sy, source.width() * sx, source.height() * sy)
        )
    painter.restore()


def paint_divider(painter: QPainter, x: int, height: int) -> None:
    painter.fillRect(x - 1, 0, 3, height, QColor(0, 0, 0, 160))
    painter.fillRect(x, 0, 1, height, QColor(255, 255, 255))


def paint_split_labels(painter: QPainter, x: int, width: int) -> None:
    """ "Before" just left of the divider and "After" just right of it, each clipped to its own side."""
    metrics = QFontMetrics(painter.font())
    for text, side in (("Before", QRect(0, 0, x, 1 << 20)), ("After", QRect(x + 1, 0, width - x - 1, 1 << 20))):
        box = metrics.boundingRect(text).adjusted(-6, -3, 6, 3)
        left = x - _LABEL_MARGIN - box.width() if text == "Before" else x + _LABEL_MARGIN
        box.moveTo(left, _LABEL_MARGIN)
        painter.save()
        painter.setClipRect(side)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(QRectF(box), 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def brush_outline_rect(center: QPointF, radius: float) -> QRect:
    """The widget area :func:`paint_brush_outline` touches, for a partial update."""
    r = radius + 2
    return QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r).toAlignedRect().adjusted(-1, -1, 1, 1)


def paint_brush_outline(painter: QPainter, center: QPointF, radius: float) -> None:
    """A white circle inside a black one, 1 px each, so the outline shows on any colour."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for color, r in ((QColor(0, 0, 0), radius + 1), (QColor(255, 255, 255), radius)):
        pen = QPen(color)
        pen.setWidthF(1.0)
        painter.setPen(pen)
        painter.drawEllipse(center, r, r)
    painter.restore()
