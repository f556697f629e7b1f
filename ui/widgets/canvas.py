"""The zoomable, pannable image canvas: an upscaled result, an optional before/after split, a mask brush."""

from __future__ import annotations

import enum

from qtpy.QtCore import QEvent, QPointF, QRect, QRectF, Qt
from qtpy.QtGui import (
    QCursor,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from qtpy.QtWidgets import QWidget

from ui.qt import Signal, Slot
from ui.widgets.canvas_gestures import PanBy, ZoomBy, key_gesture, pinch_gesture, wheel_gesture
from ui.widgets.canvas_layers import CanvasLayers
from ui.widgets.canvas_painting import (
    BACKGROUND,
    brush_outline_rect,
    paint_brush_outline,
    paint_divider,
    paint_side,
    paint_split_labels,
)
from ui.widgets.view_state import ViewState, ViewTransform, fitted_view

FIT_MARGIN = 8  # widget pixels left free around a fitted image
SPLIT_GRAB_DISTANCE = 6  # widget pixels either side of the divider where a left press drags it


# After these the mouse release may never come: the drag ends at once so a stroke is never left open.
_DRAG_ENDING_EVENTS = (QEvent.Type.UngrabMouse, QEvent.Type.WindowDeactivate, QEvent.Type.Hide)


class CanvasTool(enum.Enum):
    PAN = "pan"
    BRUSH = "brush"


class _Drag(enum.Enum):
    NONE = enum.auto()
    PAN = enum.auto()
    SPLIT = enum.auto()
    STROKE = enum.auto()


# The Qt event handlers keep Qt's camelCase names (hence the `noqa: N802`) and parameter name `a0`, which
# PyQt6's stubs use, so pyright sees compatible overrides.
class Canvas(QWidget):
    """Shows one image (any size) under a shared :class:`ViewState`; pans, zooms and reports brush strokes.

    Image coordinates are continuous: pixel (row i, column j) covers x in [j, j+1), y in [i, i+1). The images
    may wrap buffers their owner changes in place; the owner then calls :meth:`refresh` with the changed rect.
    Stroke signals carry image coordinates (floats, not clipped to the image).
    """

    stroke_started = Signal(QPointF)
    stroke_moved = Signal(QPointF)
    stroke_finished = Signal()
    split_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None, view: ViewState | None = None) -> None:
        super().__init__(parent)
        self._view = view if view is not None else ViewState(self)
        self._view.changed.connect(self._on_view_changed)
        self._layers = CanvasLayers()
        self._split_position = 0.5
        self._tool = CanvasTool.PAN
        self._brush_radius = 8.0
        self._hover: QPointF | None = None  # last mouse position over the widget, for the brush outline
        self._space_held = False
        self._drag = _Drag.NONE
        self._drag_button = Qt.MouseButton.NoButton
        self._drag_origin = QPointF()
        self._drag_center = QPointF()
        # While True the view follows the widget's size (set by fit(), cleared by any other view change), so
        # an image fitted before the window's first layout is still fitted once the layout settles.
        self._fitting = False
        self._fit_on_resize = False
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills every pixel itself
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._update_cursor(None)

    # --- images ------------------------------------------------------------------------------------------

    @property
    def view(self) -> ViewState:
        return self._view

    def image(self) -> QImage | None:
        return None if self._layers.main is None else self._layers.main.image

    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (None: nothing); fits the view when the image size differs from the last one.

        Passing the same QImage again keeps its cached downscaled copies.
        """
        if image is None or image.isNull():
            self._finish_drag()
        if self._layers.set_main(image):
            self.fit()
        self.update()

    def set_split_image(self, image: QImage | None) -> None:
        """The "before" image left of the divider (None: no split), stretched over the main image's pixels."""
        if (image is None or image.isNull()) and self._drag is _Drag.SPLIT:
            self._finish_drag()
        self._layers.set_before(image)
        self.update()

    def set_overlay(self, image: QImage | None, opacity: float) -> None:
        """An image of the main image's size drawn over it at ``opacity`` (clamped to [0, 1]): the heat map."""
        self._layers.set_overlay(image, opacity)
        self.update()

    def set_decoration(self, image: QImage | None, opacity: float) -> None:
        """A second overlay drawn above :meth:`set_overlay`'s (the mask tint or outline)."""
        self._layers.set_decoration(image, opacity)
        self.update()

    def refresh(self, rect: QRect | None = None) -> None:
        """Repaint the screen area showing image pixels ``rect`` (None: all) after their buffers changed."""
        self._layers.invalidate(rect)
        if rect is None:
            self.update()
            return
        shown = self._transform().rect_to_widget(QRectF(rect)).toAlignedRect()
        if self._view.zoom < 1:  # a pixel of a halved copy can straddle the rect's edge and reach past it
            shown.adjust(-2, -2, 2, 2)
        shown = shown.intersected(self.rect())
        if not shown.isEmpty():
            self.update(shown)

    # --- split -------------------------------------------------------------------------------------------

    @property
    def split_position(self) -> float:
        """The divider's x as a fraction of the widget width, in [0, 1]."""
        return self._split_position

    def set_split_position(self, fraction: float) -> None:
        """Move the divider (clamped to [0, 1]); unlike a drag, this does not emit ``split_moved``."""
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction != self._split_position:
            self._split_position = fraction
            if self._layers.before is not None:
                self.update()

    def _split_x(self) -> int:
        return round(self._split_position * self.width())

    def _near_divider(self, pos: QPointF) -> bool:
        return self._layers.before is not None and abs(pos.x() - self._split_x()) <= SPLIT_GRAB_DISTANCE

    # --- tools -------------------------------------------------------------------------------------------

    @property
    def tool(self) -> CanvasTool:
        return self._tool

    def set_tool(self, tool: CanvasTool) -> None:
        if tool is self._tool:
            return
        if self._drag is _Drag.STROKE:
            self._finish_drag()
        self._update_brush_outline(None)
        self._tool = tool
        self._update_cursor(self._hover)
        if self._hover is not None:
            self._update_brush_outline(self._hover)

    @property
    def brush_radius(self) -> float:
        return self._brush_radius

    def set_brush_radius(self, radius: float) -> None:
        """The brush radius in image pixels (> 0); only drawn as an outline, the caller does the painting."""
        if not radius > 0:
            raise ValueError(f"brush radius must be positive, got {radius}")
        hover = self._hover
        self._update_brush_outline(None)
        self._brush_radius = radius
        self._update_brush_outline(hover)

    # --- transform ---------------------------------------------------------------------------------------

    def _transform(self) -> ViewTransform:
        return ViewTransform(self._view.zoom, self._view.center, self.width(), self.height())

    def widget_to_image(self, pos: QPointF) -> QPointF:
        return self._transform().to_image(pos)

    def image_to_widget(self, pos: QPointF) -> QPointF:
        return self._transform().to_widget(pos)

    def visible_image_rect(self) -> QRect:
        """The image pixels at least partly visible, clipped to the image; an empty QRect without an image."""
        image = self.image()
        if image is None:
            return QRect()
        return self._transform().rect_to_image(QRectF(self.rect())).toAlignedRect().intersected(image.rect())

    def fit(self) -> None:
        """Zoom and centre so the whole image shows with FIT_MARGIN pixels free around it."""
        image = self.image()
        if image is None:
            return
        self._fitting = True
        try:
            self._view.set(*fitted_view(image.size(), self.size(), FIT_MARGIN))
        finally:
            self._fitting = False
        self._fit_on_resize = True

    def actual_size(self) -> None:
        """One image pixel per screen pixel (zoom 1), keeping the centre."""
        self._view.set(1.0, self._view.center)

    def zoom_at(self, factor: float, widget_pos: QPointF) -> None:
        """Zoom by ``factor`` (> 0; the result is clamped) keeping the image point under ``widget_pos`` there."""
        self._view.set(*self._transform().zoomed_about(factor, widget_pos))

    @Slot()
    def _on_view_changed(self) -> None:
        if not self._fitting:
            self._fit_on_resize = False
        self.update()

    def resizeEvent(self, a0: QResizeEvent | None) -> None:  # noqa: N802
        super().resizeEvent(a0)
        if self._fit_on_resize:
            self.fit()

    # --- painting ----------------------------------------------------------------------------------------

    def paintEvent(self, a0: QPaintEvent | None) -> None:  # noqa: N802
        dirty = a0.rect() if a0 is not None else self.rect()
        painter = QPainter(self)
        painter.fillRect(dirty, BACKGROUND)
        image = self.image()
        after, before = self._layers.after_side(), self._layers.before_side()
        if image is not None:
            transform, full = self._transform(), image.rect()
            if not before:
                paint_side(painter, dirty, transform, full, after)
            else:
                x = self._split_x()
                left, right = QRect(0, 0, x, self.height()), QRect(x, 0, self.width() - x, self.height())
                paint_side(painter, dirty.intersected(left), transform, full, before)
                paint_side(painter, dirty.intersected(right), transform, full, after)
                paint_divider(painter, x, self.height())
                paint_split_labels(painter, x, self.width())
        if self._tool is CanvasTool.BRUSH and self._hover is not None and self._drag is not _Drag.PAN:
            paint_brush_outline(painter, self._hover, self._brush_outline_radius())
        painter.end()

    def _brush_outline_radius(self) -> float:
        return max(self._brush_radius * self._view.zoom, 1.0)

    def _update_brush_outline(self, pos: QPointF | None) -> None:
        """Move the outline to ``pos`` (None: hide it), repainting only the two small areas involved."""
        if self._tool is CanvasTool.BRUSH:
            for where in (self._hover, pos):
                if where is not None:
                    self.update(brush_outline_rect(where, self._brush_outline_radius()))
        self._hover = None if pos is None else QPointF(pos)

    # --- input -------------------------------------------------------------------------------------------

    def _update_cursor(self, pos: QPointF | None) -> None:
        if self._drag is _Drag.PAN:
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._drag is _Drag.SPLIT or (self._drag is _Drag.NONE and pos is not None and self._near_divider(pos)):
            shape = Qt.CursorShape.SplitHCursor
        elif self._tool is CanvasTool.PAN or self._space_held:
            shape = Qt.CursorShape.OpenHandCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        if self.cursor().shape() != shape:
            self.setCursor(QCursor(shape))

    def _start_drag(self, kind: _Drag, event: QMouseEvent) -> None:
        self._drag = kind
        self._drag_button = event.button()
        self._drag_origin = event.position()
        self._drag_center = self._view.center

    def _finish_drag(self) -> None:
        """End the drag in progress; a stroke always ends with ``stroke_finished``, however it ends."""
        kind, self._drag = self._drag, _Drag.NONE
        self._drag_button = Qt.MouseButton.NoButton
        if kind is _Drag.STROKE:
            self.stroke_finished.emit()
        self._update_cursor(self._hover)
        if kind is _Drag.PAN and self._hover is not None:
            self._update_brush_outline(self._hover)

    def mousePressEvent(self, a0: QMouseEvent | None) -> None:  # noqa: N802
        if a0 is None:
            return
        if self._drag is not _Drag.NONE:  # a second button during a drag: ignore it
            a0.accept()
            return
        button = a0.button()
        pos = a0.position()
        if button == Qt.MouseButton.MiddleButton:
            self._start_drag(_Drag.PAN, a0)
        elif button == Qt.MouseButton.LeftButton and self._near_divider(pos):
            self._start_drag(_Drag.SPLIT, a0)
        elif button == Qt.MouseButton.LeftButton and (self._tool is CanvasTool.PAN or self._space_held):
            self._start_drag(_Drag.PAN, a0)
        elif button == Qt.MouseButton.LeftButton and self._tool is CanvasTool.BRUSH and self.image() is not None:
            self._start_drag(_Drag.STROKE, a0)
            self.stroke_started.emit(self.widget_to_image(pos))
        else:
            super().mousePressEvent(a0)
            return
        self._update_cursor(pos)
        a0.accept()

    def mouseMoveEvent(self, a0: QMouseEvent | None) -> None:  # noqa: N802
        if a0 is None:
            return
        pos = a0.position()
        if self._drag is not _Drag.NONE and not a0.buttons() & self._drag_button:
            self._finish_drag()  # the release went elsewhere (a popup, a lost grab): do not leave a drag open
        if self._drag is _Drag.PAN:
            self._view.set(self._view.zoom, self._drag_center - (pos - self._drag_origin) / self._view.zoom)
        elif self._drag is _Drag.SPLIT:
            self._move_split(pos)
        elif self._drag is _Drag.STROKE:
            self.stroke_moved.emit(self.widget_to_image(pos))
        self._update_brush_outline(pos)
        self._update_cursor(pos)
        a0.accept()

    def mouseReleaseEvent(self, a0: QMouseEvent | None) -> None:  # noqa: N802
        if a0 is None:
            return
        if self._drag is _Drag.NONE or a0.button() != self._drag_button:
            super().mouseReleaseEvent(a0)
            return
        if self._drag is _Drag.SPLIT:
            self._move_split(a0.position())
        self._finish_drag()
        a0.accept()

    def _move_split(self, pos: QPointF) -> None:
        fraction = min(max(pos.x() / max(1, self.width()), 0.0), 1.0)
        if fraction != self._split_position:
            self._split_position = fraction
            self.update()
            self.split_moved.emit(fraction)

    def leaveEvent(self, a0: QEvent | None) -> None:  # noqa: N802
        self._update_brush_outline(None)
        super().leaveEvent(a0)

    def wheelEvent(self, a0: QWheelEvent | None) -> None:  # noqa: N802
        if a0 is not None and not self._apply(wheel_gesture(a0), a0):
            a0.ignore()

    def keyPressEvent(self, a0: QKeyEvent | None) -> None:  # noqa: N802
        if a0 is None:
            return
        if a0.key() == Qt.Key.Key_Space:
            if not a0.isAutoRepeat():
                self._space_held = True
                self._update_cursor(self._hover)
            a0.accept()
        elif not self._apply(key_gesture(a0.key(), QPointF(self.width() / 2, self.height() / 2)), a0):
            super().keyPressEvent(a0)

    def _apply(self, gesture: ZoomBy | PanBy | None, event: QEvent) -> bool:
        """Carry out ``gesture`` (accepting ``event``); False when there is none."""
        if isinstance(gesture, ZoomBy):
            self.zoom_at(gesture.factor, gesture.at)
        elif isinstance(gesture, PanBy):
            self._view.set(self._view.zoom, self._view.center - gesture.delta / self._view.zoom)
        else:
            return False
        event.accept()
        return True

    def keyReleaseEvent(self, a0: QKeyEvent | None) -> None:  # noqa: N802
        if a0 is not None and a0.key() == Qt.Key.Key_Space and not a0.isAutoRepeat():
            self._space_held = False  # a pan already started goes on until its button is released
            self._update_cursor(self._hover)
            a0.accept()
            return
        super().keyReleaseEvent(a0)

    def focusOutEvent(self, a0: QFocusEvent | None) -> None:  # noqa: N802
        self._space_held = False  # the release will go to another widget
        self._update_cursor(self._hover)
        super().focusOutEvent(a0)

    def event(self, a0: QEvent | None) -> bool:
        if a0 is None:
            return super().event(a0)
        kind = a0.type()
        if kind == QEvent.Type.NativeGesture and isinstance(a0, QNativeGestureEvent):
            if self._apply(pinch_gesture(a0), a0):
                return True
        elif kind in _DRAG_ENDING_EVENTS and self._drag is not _Drag.NONE:
            self._finish_drag()
        return super().event(a0)
