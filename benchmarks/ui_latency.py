"""The desktop app's response time on a 4-megapixel result: brush stroke → result view updated, and threshold slider
→ result view updated. Targets (issue 7): ≤ 50 ms median for a stroke, ≤ 100 ms for a threshold change.

Run by hand on a quiet machine (offscreen Qt by default; set QT_QPA_PLATFORM=xcb under Xvfb to include a real
window system):
    .venv/bin/python benchmarks/ui_latency.py [--size 2048] [--repeats 30]

Each timing runs from the input event (a mouse move sent to the canvas with the button held, or the slider moved)
until the canvas has painted the change, through the real widgets: the document updates mask, blend and display
buffers of the changed box, the canvas repaints the screen area showing it. Measured at "fit" (the whole image on
screen, the view after opening) and at 1:1 (a part of it on screen: the rest of a threshold change is finished in
the background, reported separately). The layers are synthetic (no model runs): the cost does not depend on them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PIL import Image
from qtpy.QtCore import QEvent, QObject, QPointF, Qt
from qtpy.QtWidgets import QApplication

# The mouse helper lives with the UI tests; run as a file, this script sees only benchmarks/ on its path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ldl_client import ConnectSettings, Locations
from tests.ui.synthetic_input import send_mouse
from ui.settings import AppSettings
from ui.state.backend import Backend
from ui.state.document import View
from ui.state.layers import ResultLayers
from ui.state.mask_editor import Ramp
from ui.widgets.canvas import CanvasTool
from ui.widgets.main_window import MainWindow


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, a0: QObject | None, a1: QEvent | None) -> bool:  # noqa: N802 - Qt's name
        if a1 is not None and a1.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def synthetic_layers(size: int) -> tuple[np.ndarray, ResultLayers]:
    rng = np.random.default_rng(0)
    small = (rng.random((size // 4, size // 4, 3)) * 255).astype(np.uint8)
    small = cv2.GaussianBlur(small, (0, 0), 2.0)
    reference = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    texture = rng.normal(0.0, 12.0, (size, size, 3))
    detail = np.clip(reference + texture, 0, 255).astype(np.uint8)
    field = cv2.resize(rng.random((size // 32, size // 32)).astype(np.float32), (size, size))
    return small, ResultLayers("benchmark", detail, reference, None, np.clip(field, 0.0, 1.0))


def until_painted(app: QApplication, counter: PaintCounter, action: Callable[[], object]) -> float:
    """Seconds from ``action`` until the canvas has painted once more."""
    before = counter.count
    start = time.perf_counter()
    action()
    deadline = start + 5.0
    while counter.count == before and time.perf_counter() < deadline:
        app.processEvents()
    return time.perf_counter() - start


def send_mouse_at(window: MainWindow, kind: QEvent.Type, image_point: tuple[float, float], held: bool) -> None:
    canvas = window.canvas
    button = Qt.MouseButton.LeftButton
    pressed = button if kind is QEvent.Type.MouseButtonPress else Qt.MouseButton.NoButton
    local = canvas.image_to_widget(QPointF(*image_point))
    send_mouse(canvas, kind, local, pressed, button if held else Qt.MouseButton.NoButton)


def measure(app: QApplication, window: MainWindow, counter: PaintCounter, repeats: int, label: str) -> None:
    document = window.document
    assert document is not None and document.editor is not None
    visible = window.canvas.visible_image_rect()
    cx, cy = visible.center().x(), visible.center().y()
    # Brush: one stroke of many mouse moves, each move timed to its repaint.
    stroke: list[float] = []
    send_mouse_at(window, QEvent.Type.MouseButtonPress, (cx, cy), True)
    app.processEvents()
    for step in range(repeats):
        angle = step / repeats * 2 * np.pi
        point = (cx + 0.3 * visible.width() * np.cos(angle), cy + 0.3 * visible.height() * np.sin(angle))
        stroke.append(
            until_painted(app, counter, lambda p=point: send_mouse_at(window, QEvent.Type.MouseMove, p, True))
        )
    send_mouse_at(window, QEvent.Type.MouseButtonRelease, (cx, cy), False)
    app.processEvents()
    if not document.editor.painted:
        raise SystemExit("the stroke did not reach the mask: the timings would be of nothing")
    # Threshold: slider moves, each timed to the repaint of the visible part; then the rest in the background.
    slider: list[float] = []
    finish: list[float] = []
    for step in range(repeats):
        value = 0.2 + 0.5 * (step % 10) / 10
        start = time.perf_counter()
        slider.append(until_painted(app, counter, lambda v=value: window.mask_panel.threshold.set_value(v)))
        while document._pending:
            app.processEvents()
        finish.append(time.perf_counter() - start)
    report(f"{label}: brush stroke → result painted", stroke, 50)
    report(f"{label}: threshold → result painted", slider, 100)
    report(f"{label}: threshold → whole image done", finish, None)


def report(name: str, seconds: list[float], target_ms: float | None) -> None:
    ms = sorted(1000 * s for s in seconds)
    median = statistics.median(ms)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    verdict = "" if target_ms is None else f"  target ≤ {target_ms:g} ms: {'met' if median <= target_ms else 'NOT met'}"
    print(f"{name:48s} median {median:6.1f} ms  p90 {p90:6.1f} ms  max {ms[-1]:6.1f} ms{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048, help="result side in pixels (2048 = 4.2 MP)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--width", type=int, default=1600, help="window width")
    parser.add_argument("--height", type=int, default=1000, help="window height")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as folder:
        small, layers = synthetic_layers(args.size)
        source = Path(folder) / "source.png"
        Image.fromarray(small).save(source)
        # No backend: the timings are the app's own work.
        offline = ConnectSettings(
            start_server=False, locations=Locations((Path(folder) / "none.json",), Path(folder) / "log")
        )
        window = MainWindow(Backend(offline), AppSettings(), None)
        window.resize(args.width, args.height)
        window.show()
        assert window.open_file(source) and window.document is not None
        window.document.set_result(layers, Ramp())
        window.set_view(View.RESULT)
        window.mask_panel.remove.setChecked(True)
        window.mask_panel.brush_size.set_value(40)
        window.canvas.set_tool(CanvasTool.BRUSH)
        counter = PaintCounter()
        window.canvas.installEventFilter(counter)
        for _ in range(20):
            app.processEvents()
        print(
            f"result {args.size}×{args.size} ({args.size * args.size / 1e6:.1f} MP), "
            f"window {args.width}×{args.height}, canvas {window.canvas.width()}×{window.canvas.height()}, "
            f"platform {app.platformName()}"
        )
        window.canvas.fit()
        app.processEvents()
        measure(app, window, counter, args.repeats, f"fit (zoom {window.canvas.view.zoom:.2f})")
        window.canvas.actual_size()
        app.processEvents()
        measure(app, window, counter, args.repeats, "1:1")
        window.document.mark_saved()
        window.close()


if __name__ == "__main__":
    main()
