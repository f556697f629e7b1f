"""The canvas on the offscreen platform: real widgets, real events, pixels read back with grab()."""

from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from qtpy.QtGui import QImage, QNativeGestureEvent, QPaintEvent, QPointingDevice, QWheelEvent
from qtpy.QtWidgets import QApplication

from tests.ui.synthetic_input import drag, send_mouse
from ui.state.display import qimage_of
from ui.widgets.canvas import FIT_MARGIN, Canvas, CanvasTool
from ui.widgets.image_pyramid import ImagePyramid
from ui.widgets.view_state import MAX_ZOOM, MIN_ZOOM, ViewState

RED = (220, 30, 30)
GREEN = (30, 200, 60)
BLUE = (40, 60, 230)


def _rgba(height: int, width: int, rgb: tuple[int, int, int], alpha: int = 255) -> np.ndarray:
    array = np.empty((height, width, 4), np.uint8)
    array[...] = (*rgb, alpha)
    return array


def _qimage(array: np.ndarray) -> QImage:
    """A QImage wrapping ``array`` the way the app's display buffers are wrapped: keep the array alive."""
    return qimage_of(array)


def _to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    bits = image.constBits()
    assert bits is not None
    rows = np.frombuffer(bits.asstring(image.sizeInBytes()), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)


def _grab(canvas: Canvas) -> np.ndarray:
    image = canvas.grab().toImage()
    assert image.width() == canvas.width(), "these tests assume a device pixel ratio of 1 (offscreen)"
    return _to_array(image)


def _rgb_at(pixels: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    r, g, b, _ = pixels[y, x]
    return int(r), int(g), int(b)


def _send_mouse(
    canvas: Canvas,
    kind: QEvent.Type,
    pos: tuple[float, float],
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    send_mouse(canvas, kind, QPointF(*pos), button, buttons, modifiers)


def _drag(canvas: Canvas, button: Qt.MouseButton, points: list[tuple[float, float]]) -> None:
    drag(canvas, [QPointF(*point) for point in points], button)


def _wheel(
    canvas: Canvas,
    pos: tuple[float, float],
    angle: tuple[int, int] = (0, 0),
    pixels: tuple[int, int] = (0, 0),
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    local = QPointF(*pos)
    event = QWheelEvent(
        local,
        canvas.mapToGlobal(local),
        QPoint(*pixels),
        QPoint(*angle),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, event)


def _close(a: QPointF, b: QPointF, tol: float = 1e-6) -> bool:
    return abs(a.x() - b.x()) <= tol and abs(a.y() - b.y()) <= tol


@pytest.fixture
def make_canvas(qtbot: QtBot):
    def make(width: int = 200, height: int = 100, view: ViewState | None = None) -> Canvas:
        canvas = Canvas(view=view)
        qtbot.addWidget(canvas)
        canvas.resize(width, height)
        canvas.show()
        qtbot.waitExposed(canvas)
        return canvas

    return make


def test_view_state_clamps_zoom_and_emits_only_on_change(qtbot: QtBot) -> None:
    view = ViewState()
    with qtbot.waitSignal(view.changed, timeout=100):
        view.set(1000.0, QPointF(3, 4))
    assert view.zoom == MAX_ZOOM
    with qtbot.assertNotEmitted(view.changed):
        view.set(MAX_ZOOM, QPointF(3, 4))
    view.set(1e-9, QPointF(3, 4))
    assert view.zoom == MIN_ZOOM
    with pytest.raises(ValueError, match="positive"):
        view.set(0.0, QPointF())


@pytest.mark.parametrize("factor", [0.3, 0.5, 1.7, 2.0, 8.0])
def test_zoom_at_keeps_the_image_point_under_the_cursor(make_canvas, factor: float) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(50, 80, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(1.5, QPointF(30.25, 20.5))
    cursor = QPointF(37.0, 81.0)
    before = canvas.widget_to_image(cursor)
    canvas.zoom_at(factor, cursor)
    assert canvas.view.zoom == pytest.approx(1.5 * factor)
    assert _close(canvas.widget_to_image(cursor), before)
    assert _close(canvas.image_to_widget(before), cursor)


def test_fit_shows_the_whole_image_centred(make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 100)
    image = _rgba(60, 120, BLUE)
    canvas.set_image(_qimage(image))  # a new size fits by itself
    assert canvas.visible_image_rect() == QRect(0, 0, 120, 60)
    assert canvas.view.zoom == pytest.approx((100 - 2 * FIT_MARGIN) / 60)
    assert _close(canvas.image_to_widget(QPointF(60, 30)), QPointF(100, 50))
    top_left = canvas.image_to_widget(QPointF(0, 0))
    assert top_left.y() == pytest.approx(FIT_MARGIN)  # height is the tight side
    assert top_left.x() > FIT_MARGIN
    pixels = _grab(canvas)
    assert _rgb_at(pixels, 100, 50) == BLUE
    assert _rgb_at(pixels, 100, FIT_MARGIN // 2) != BLUE  # the margin shows the background


def test_a_fitted_view_follows_resizes_until_the_user_zooms(make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 100)
    image = _rgba(60, 120, BLUE)
    canvas.set_image(_qimage(image))
    canvas.resize(400, 300)  # e.g. the main window's first layout
    assert canvas.view.zoom == pytest.approx((400 - 2 * FIT_MARGIN) / 120)
    canvas.zoom_at(2.0, QPointF(10, 10))
    zoom = canvas.view.zoom
    canvas.resize(300, 300)
    assert canvas.view.zoom == zoom


def test_actual_size_gives_zoom_one_and_keeps_the_centre(make_canvas) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(0.37, QPointF(10, 12))
    canvas.actual_size()
    assert canvas.view.zoom == 1.0
    assert _close(canvas.view.center, QPointF(10, 12))


def test_visible_image_rect_matches_the_hand_computed_rect(make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 100)
    assert canvas.visible_image_rect() == QRect()  # no image yet
    image = _rgba(80, 100, BLUE)
    canvas.set_image(_qimage(image))
    # Zoom 2 shows 100 × 50 image pixels: x in [-19.75, 80.25], y in [15.5, 65.5], widened to whole pixels.
    canvas.view.set(2.0, QPointF(30.25, 40.5))
    assert canvas.visible_image_rect() == QRect(0, 15, 81, 51)


def test_wheel_zooms_around_the_cursor(make_canvas) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(1.0, QPointF(32, 32))
    cursor = (150.0, 20.0)
    anchor = canvas.widget_to_image(QPointF(*cursor))
    _wheel(canvas, cursor, angle=(0, 240))
    assert canvas.view.zoom == pytest.approx(2**0.5)
    assert _close(canvas.widget_to_image(QPointF(*cursor)), anchor)
    _wheel(canvas, cursor, angle=(0, -480))
    assert canvas.view.zoom == pytest.approx(2**-0.5)


def test_trackpad_scroll_pans_and_ctrl_scroll_zooms(make_canvas) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(2.0, QPointF(32, 32))
    _wheel(canvas, (50, 50), pixels=(10, -20), angle=(5, -10))
    assert canvas.view.zoom == 2.0
    assert _close(canvas.view.center, QPointF(32 - 10 / 2, 32 + 20 / 2))  # the image follows the fingers
    anchor = canvas.widget_to_image(QPointF(50, 50))
    _wheel(canvas, (50, 50), pixels=(0, 480), modifiers=Qt.KeyboardModifier.ControlModifier)
    assert canvas.view.zoom == pytest.approx(4.0)
    assert _close(canvas.widget_to_image(QPointF(50, 50)), anchor)


def test_pinch_gesture_zooms_around_its_position(make_canvas) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(1.0, QPointF(32, 32))
    pos = QPointF(40, 70)
    anchor = canvas.widget_to_image(pos)
    event = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture,
        QPointingDevice.primaryPointingDevice(),
        2,
        pos,
        pos,
        canvas.mapToGlobal(pos),
        0.25,
        QPointF(),
    )
    QApplication.sendEvent(canvas, event)
    assert canvas.view.zoom == pytest.approx(1.25)
    assert _close(canvas.widget_to_image(pos), anchor)


@pytest.mark.parametrize("tool", [CanvasTool.PAN, CanvasTool.BRUSH])
def test_middle_drag_pans_by_the_distance_over_zoom(make_canvas, tool: CanvasTool) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.set_tool(tool)
    canvas.view.set(2.0, QPointF(20, 30))
    _drag(canvas, Qt.MouseButton.MiddleButton, [(100, 50), (110, 45), (130, 70)])
    assert _close(canvas.view.center, QPointF(20 - 30 / 2, 30 - 20 / 2))


def test_left_drag_pans_in_the_pan_tool_and_with_space_held(qtbot: QtBot, make_canvas) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(2.0, QPointF(20, 30))
    _drag(canvas, Qt.MouseButton.LeftButton, [(100, 50), (120, 50)])
    assert _close(canvas.view.center, QPointF(10, 30))

    canvas.set_tool(CanvasTool.BRUSH)
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    with qtbot.assertNotEmitted(canvas.stroke_started):
        _drag(canvas, Qt.MouseButton.LeftButton, [(100, 50), (100, 30)])
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert _close(canvas.view.center, QPointF(10, 40))
    with qtbot.waitSignal(canvas.stroke_started, timeout=100):
        _drag(canvas, Qt.MouseButton.LeftButton, [(100, 50), (90, 50)])
    assert _close(canvas.view.center, QPointF(10, 40))  # painting does not pan


def test_brush_stroke_reports_image_coordinates(make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 200)
    image = _rgba(100, 100, BLUE)
    canvas.set_image(_qimage(image))
    canvas.set_tool(CanvasTool.BRUSH)
    assert canvas.cursor().shape() == Qt.CursorShape.CrossCursor
    canvas.view.set(2.0, QPointF(30, 40))  # widget (100, 100) shows image (30, 40)
    events: list[tuple[str, tuple[float, float] | None]] = []
    canvas.stroke_started.connect(lambda p: events.append(("start", (p.x(), p.y()))))
    canvas.stroke_moved.connect(lambda p: events.append(("move", (p.x(), p.y()))))
    canvas.stroke_finished.connect(lambda: events.append(("finish", None)))
    _drag(canvas, Qt.MouseButton.LeftButton, [(100, 100), (110, 90), (101, 103)])
    assert events == [("start", (30, 40)), ("move", (35, 35)), ("move", (30.5, 41.5)), ("finish", None)]


def test_a_stroke_always_ends(qtbot: QtBot, make_canvas) -> None:
    canvas: Canvas = make_canvas()
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.set_tool(CanvasTool.BRUSH)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    _send_mouse(canvas, QEvent.Type.MouseButtonPress, (50, 50), left, left)
    with qtbot.waitSignal(canvas.stroke_finished, timeout=100):
        QApplication.sendEvent(canvas, QEvent(QEvent.Type.UngrabMouse))

    _send_mouse(canvas, QEvent.Type.MouseButtonPress, (50, 50), left, left)
    with qtbot.waitSignal(canvas.stroke_finished, timeout=100):
        canvas.set_tool(CanvasTool.PAN)

    canvas.set_tool(CanvasTool.BRUSH)
    _send_mouse(canvas, QEvent.Type.MouseButtonPress, (50, 50), left, left)
    # The release went elsewhere: the next move arrives with no button held.
    with qtbot.waitSignal(canvas.stroke_finished, timeout=100), qtbot.assertNotEmitted(canvas.stroke_moved):
        _send_mouse(canvas, QEvent.Type.MouseMove, (60, 50), none, none)


def test_split_shows_before_left_and_after_right_and_drags(qtbot: QtBot, make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 100)
    before, after = _rgba(50, 50, RED), _rgba(50, 50, GREEN)
    canvas.set_image(_qimage(after))
    canvas.set_split_image(_qimage(before))
    canvas.view.set(4.0, QPointF(25, 25))  # the image fills the widget
    pixels = _grab(canvas)
    assert _rgb_at(pixels, 90, 60) == RED
    assert _rgb_at(pixels, 110, 60) == GREEN

    _send_mouse(canvas, QEvent.Type.MouseMove, (104, 60), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert canvas.cursor().shape() == Qt.CursorShape.SplitHCursor
    moved: list[float] = []
    canvas.split_moved.connect(moved.append)
    _drag(canvas, Qt.MouseButton.LeftButton, [(104, 60), (130, 60), (150, 60)])
    assert canvas.split_position == pytest.approx(0.75)
    assert moved == [pytest.approx(0.65), pytest.approx(0.75)]  # the release at the last move emits nothing new
    assert canvas.view.center == QPointF(25, 25)  # dragging the divider does not pan
    pixels = _grab(canvas)
    assert _rgb_at(pixels, 140, 60) == RED
    assert _rgb_at(pixels, 160, 60) == GREEN


def test_a_smaller_before_image_is_stretched_over_the_main_image(make_canvas) -> None:
    canvas: Canvas = make_canvas(100, 100)
    after, before = _rgba(4, 4, GREEN), _rgba(2, 2, RED)
    before[:, 1, :3] = BLUE
    canvas.set_image(_qimage(after))
    canvas.set_split_image(_qimage(before))
    canvas.view.set(20.0, QPointF(2, 2))  # main pixels x in [0, 4) are widget x in [10, 90)
    canvas.set_split_position(0.8)
    pixels = _grab(canvas)
    assert _rgb_at(pixels, 30, 60) == RED  # before column 0 covers main x in [0, 2)
    assert _rgb_at(pixels, 60, 60) == BLUE  # before column 1 covers main x in [2, 4), drawn nearest
    assert _rgb_at(pixels, 85, 60) == GREEN


def test_overlay_blends_at_its_opacity_on_both_sides(make_canvas) -> None:
    canvas: Canvas = make_canvas(100, 100)
    base, heat = _rgba(10, 10, (200, 0, 0)), _rgba(10, 10, (0, 0, 200))
    canvas.set_image(_qimage(base))
    canvas.view.set(10.0, QPointF(5, 5))
    canvas.set_overlay(_qimage(heat), 0.0)
    assert _rgb_at(_grab(canvas), 50, 50) == (200, 0, 0)
    canvas.set_overlay(_qimage(heat), 0.5)
    assert _rgb_at(_grab(canvas), 50, 50) == pytest.approx((100, 0, 100), abs=2)
    canvas.set_split_image(_qimage(_rgba(10, 10, (0, 200, 0))))
    pixels = _grab(canvas)
    assert _rgb_at(pixels, 25, 50) == pytest.approx((0, 100, 100), abs=2)
    assert _rgb_at(pixels, 75, 50) == pytest.approx((100, 0, 100), abs=2)


def test_canvases_sharing_a_view_state_move_together(make_canvas) -> None:
    view = ViewState()
    first: Canvas = make_canvas(200, 100, view)
    second: Canvas = make_canvas(200, 100, view)
    image = _rgba(64, 64, BLUE)
    first.set_image(_qimage(image))
    second.set_image(_qimage(image))
    first.zoom_at(3.0, QPointF(20, 30))
    _drag(first, Qt.MouseButton.MiddleButton, [(100, 50), (80, 60)])
    probe = QPointF(57, 13)
    assert second.view is first.view
    assert _close(second.widget_to_image(probe), first.widget_to_image(probe))
    assert second.visible_image_rect() == first.visible_image_rect()


def test_refresh_shows_pixels_changed_in_place_even_when_zoomed_out(make_canvas) -> None:
    canvas: Canvas = make_canvas(80, 80)
    image = _rgba(256, 256, BLUE)
    canvas.set_image(_qimage(image))
    assert canvas.view.zoom < 0.5  # drawn from the downscaled cache, which refresh must invalidate
    centre = canvas.image_to_widget(QPointF(64, 64))
    assert _rgb_at(_grab(canvas), round(centre.x()), round(centre.y())) == BLUE
    image[32:96, 32:96, :3] = RED
    canvas.refresh(QRect(32, 32, 64, 64))
    pixels = _grab(canvas)
    assert _rgb_at(pixels, round(centre.x()), round(centre.y())) == RED
    far = canvas.image_to_widget(QPointF(200, 200))
    assert _rgb_at(pixels, round(far.x()), round(far.y())) == BLUE


class _PaintRecorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, a0: QObject | None, a1: QEvent | None) -> bool:  # noqa: N802
        if isinstance(a1, QPaintEvent):
            self.rects.append(a1.rect())
        return False


def test_refresh_of_a_small_rect_repaints_only_that_area(qtbot: QtBot, make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 100)
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(1.0, QPointF(32.5, 32))  # a half-pixel offset: the widget rect must round outwards
    qtbot.wait(10)
    recorder = _PaintRecorder()
    canvas.installEventFilter(recorder)
    canvas.refresh(QRect(10, 20, 4, 3))
    qtbot.waitUntil(lambda: bool(recorder.rects), timeout=1000)
    # Image x in [10, 14) is widget x in [77.5, 81.5): whole pixels 77..81; y in [20, 23) is widget 38..40.
    assert recorder.rects == [QRect(77, 38, 5, 3)]


def test_pyramid_patch_equals_a_full_rebuild() -> None:
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (64, 96, 4), dtype=np.uint8)
    array[..., 3] = 255
    pyramid = ImagePyramid(_qimage(array))
    level, sx, sy = pyramid.level_for(0.1)  # builds 1/2, 1/4 and 1/8
    assert (level.width(), level.height(), sx, sy) == (12, 8, 0.125, 0.125)
    stale = _to_array(level)
    array[5:17, 40:43, :3] = 255 - array[5:17, 40:43, :3]
    pyramid.invalidate(QRect(40, 5, 3, 12))
    patched_level = pyramid.level_for(0.1)[0]
    assert patched_level is level  # patched in place, not rebuilt
    patched = _to_array(patched_level)
    rebuilt = _to_array(ImagePyramid(_qimage(array)).level_for(0.1)[0])
    assert np.array_equal(patched, rebuilt)
    assert not np.array_equal(patched, stale)  # the level really changed


def test_overlay_on_a_cached_level_follows_refresh(make_canvas) -> None:
    canvas: Canvas = make_canvas(80, 80)
    base, heat = _rgba(256, 256, (200, 0, 0)), _rgba(256, 256, (0, 0, 200), alpha=0)
    canvas.set_image(_qimage(base))
    canvas.set_decoration(_qimage(heat), 1.0)
    centre = canvas.image_to_widget(QPointF(128, 128))
    x, y = round(centre.x()), round(centre.y())
    assert _rgb_at(_grab(canvas), x, y) == (200, 0, 0)
    heat[96:160, 96:160, 3] = 255
    canvas.refresh(QRect(96, 96, 64, 64))
    assert _rgb_at(_grab(canvas), x, y) == (0, 0, 200)


def test_brush_outline_is_drawn_at_the_mouse_scaled_by_zoom(make_canvas) -> None:
    canvas: Canvas = make_canvas(100, 100)
    image = _rgba(100, 100, (128, 128, 128))
    canvas.set_image(_qimage(image))
    canvas.view.set(2.0, QPointF(50, 50))
    canvas.set_tool(CanvasTool.BRUSH)
    canvas.set_brush_radius(10)  # 20 widget pixels at zoom 2
    _send_mouse(canvas, QEvent.Type.MouseMove, (50, 50), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    row = _grab(canvas)[50, :, :3].astype(int)
    changed = np.flatnonzero(np.abs(row - 128).sum(axis=1) > 60)
    assert changed.min() in range(28, 31) and changed.max() in range(70, 73)
    assert np.all(np.abs(row[35:66] - 128) <= 2)  # inside the circle the image shows through


def test_zoomed_in_pixels_are_sharp_squares(make_canvas) -> None:
    canvas: Canvas = make_canvas(100, 100)
    image = _rgba(4, 4, RED)
    image[:, 2:, :3] = GREEN
    canvas.set_image(_qimage(image))
    canvas.view.set(10.0, QPointF(2, 2))  # image x = 2 (the colour edge) is widget x = 50
    row = _grab(canvas)[50]
    assert _rgb_at(row[np.newaxis], 49, 0) == RED  # nearest neighbour: no blend across the edge
    assert _rgb_at(row[np.newaxis], 50, 0) == GREEN


@pytest.mark.parametrize("zoom", [2.5, 1.0, 0.75, 0.3, 0.1])
def test_after_a_partial_refresh_the_screen_equals_a_full_repaint(qtbot: QtBot, make_canvas, zoom: float) -> None:
    canvas: Canvas = make_canvas(120, 90)
    image = np.random.default_rng(1).integers(0, 256, (128, 128, 4), dtype=np.uint8)
    image[..., 3] = 255
    canvas.set_image(_qimage(image))
    canvas.view.set(zoom, QPointF(40.3, 50.7))
    qtbot.wait(10)
    recorder = _PaintRecorder()
    canvas.installEventFilter(recorder)
    image[37:41, 45:52, :3] = 255 - image[37:41, 45:52, :3]
    canvas.refresh(QRect(45, 37, 7, 4))
    qtbot.waitUntil(lambda: bool(recorder.rects), timeout=1000)
    screen = QApplication.primaryScreen()
    assert screen is not None
    # The window's backing store keeps what earlier paints left outside the refreshed area; grab() repaints all.
    shown = _to_array(screen.grabWindow(canvas.winId()).toImage())
    assert np.array_equal(shown, _grab(canvas))
    assert recorder.rects[0].width() < canvas.width() // 2  # and it really was a partial repaint


def test_setting_the_same_image_again_keeps_its_cached_copies(make_canvas) -> None:
    canvas: Canvas = make_canvas(80, 80)
    image = _rgba(256, 256, BLUE)
    qimage = _qimage(image)
    canvas.set_image(qimage)
    canvas.set_overlay(qimage, 0.3)
    canvas.grab()  # builds the halved copies (zoom < 0.5)
    image[:, :, :3] = RED  # changed in place without refresh(): the cached copies are knowingly stale
    canvas.set_image(qimage)
    canvas.set_overlay(qimage, 0.0)  # only the opacity changes
    assert canvas.image() is qimage
    centre = canvas.image_to_widget(QPointF(128, 128))
    assert _rgb_at(_grab(canvas), round(centre.x()), round(centre.y())) == BLUE
    canvas.refresh()
    assert _rgb_at(_grab(canvas), round(centre.x()), round(centre.y())) == RED


def test_plus_and_minus_zoom_about_the_centre(qtbot: QtBot, make_canvas) -> None:
    canvas: Canvas = make_canvas(200, 100)
    image = _rgba(64, 64, BLUE)
    canvas.set_image(_qimage(image))
    canvas.view.set(1.0, QPointF(20, 30))
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.view.zoom == pytest.approx(2**0.5)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert canvas.view.zoom == pytest.approx(2**-0.5)
    assert _close(canvas.view.center, QPointF(20, 30))
    _wheel(canvas, (10, 10), angle=(120, 0))  # a horizontal-only wheel leaves the view alone
    assert canvas.view.zoom == pytest.approx(2**-0.5)
