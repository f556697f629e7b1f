"""Screenshots of the desktop app doing real work, for review: the main window with an image, the artifact-map
overlay, a painted mask and the before/after split.

Runs the real app against the real backend (found or started as the app does) on a photo from scikit-image:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/ui_screenshots.py [--out out/screenshots]
(or on a desktop without xvfb-run). Writes progress.png (mid-job), main_window.png, map_overlay.png,
painted_mask.png, split_view.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from qtpy.QtCore import QEventLoop, QPointF, QTimer
from qtpy.QtWidgets import QApplication

# The mouse helper lives with the UI tests; run as a file, this script sees only scripts/ on its path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ldl_client import ConnectSettings
from tests.ui.synthetic_input import drag
from ui.settings import AppSettings
from ui.state.backend import Backend, BackendStatus
from ui.state.document import View
from ui.widgets.canvas import CanvasTool
from ui.widgets.main_window import MainWindow


def wait_for(app: QApplication, condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop until ``condition()`` holds (the app stays live: progress, repaints)."""
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(loop.quit)
    remaining = int(timeout * 10)
    while not condition():
        if remaining == 0:
            raise SystemExit(f"timed out waiting for {what}")
        remaining -= 1
        timer.start(100)
        loop.exec()
    app.processEvents()


def drag_on_image(window: MainWindow, points: list[tuple[float, float]]) -> None:
    canvas = window.canvas
    drag(canvas, [canvas.image_to_widget(QPointF(x, y)) for x, y in points])


def save(app: QApplication, window: MainWindow, path: Path) -> None:
    for _ in range(10):
        app.processEvents()
    if not window.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/screenshots"))
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--reference", default="tta:4")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    from skimage import data

    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "chelsea.png"
        Image.fromarray(np.ascontiguousarray(data.chelsea()[40:200, 80:340])).save(photo)
        backend = Backend(ConnectSettings(python=sys.executable), start_timeout=120)
        settings = AppSettings(model=args.model, reference=args.reference)
        window = MainWindow(backend, settings, None)
        window.resize(1500, 950)
        window.show()
        assert window.open_file(photo)
        wait_for(app, lambda: backend.status in (BackendStatus.READY, BackendStatus.FAILED), 180, "the backend")
        if backend.status is BackendStatus.FAILED:
            raise SystemExit(f"the backend did not start: {backend.message} ({backend.hint})")
        window.run()
        # Mid-job: the progress bar's share of the whole job, the stage and the ETA.
        wait_for(app, lambda: "reference" in window.run_panel.progress_label.text(), 900, "the reference stage")
        save(app, window, args.out / "progress.png")
        wait_for(app, lambda: window.document is not None and window.document.has_result, 900, "the upscale")
        window.canvas.fit()
        save(app, window, args.out / "main_window.png")
        window.overlay_action.trigger()
        save(app, window, args.out / "map_overlay.png")
        window.overlay_action.trigger()
        window.mask_panel.remove.setChecked(True)
        window.mask_panel.brush_size.set_value(60)
        window.brush_action.trigger()
        assert window.canvas.tool is CanvasTool.BRUSH
        document = window.document
        assert document is not None and document.layers is not None
        width, height = document.layers.width, document.layers.height
        drag_on_image(window, [(width * 0.15, height * 0.8), (width * 0.4, height * 0.7), (width * 0.6, height * 0.85)])
        save(app, window, args.out / "painted_mask.png")
        window.set_view(View.RESULT)
        window.set_tool(CanvasTool.PAN)  # the split compares results as they will be exported, without the mask
        window.split_action.trigger()
        window.canvas.set_split_position(0.45)
        save(app, window, args.out / "split_view.png")
        document.mark_saved()
        window.close()


if __name__ == "__main__":
    main()
