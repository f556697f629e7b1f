"""Jobs from the app: cancel, a responsive event loop, backend errors shown without losing the user's work."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QMessageBox

from ldl_client import ConnectSettings
from tests.ui.conftest import write_photo
from tests.ui.synthetic_input import drag
from tests.ui.test_app_flow import make_window, run_to_result


def _big_photo(tmp_path: Path, chelsea: np.ndarray) -> Path:
    # Large enough that an 8-pass TTA job runs for seconds on two cores.
    return write_photo(tmp_path / "big.png", chelsea[:256, :320])


def test_cancel_leaves_the_app_usable_and_the_event_loop_runs_during_a_job(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, chelsea: np.ndarray, small_photo: Path
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path, reference="tta:8")
    assert window.open_file(_big_photo(tmp_path, chelsea))
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    started = time.monotonic()
    window.run()
    assert window.runner.busy and window.run_panel.cancel_button.isEnabled()
    with qtbot.waitSignal(window.runner.progress, timeout=60_000, check_params_cb=lambda job: job.progress.done > 0):
        pass
    qtbot.waitUntil(lambda: window.run_panel.progress.format().endswith("%"), timeout=5000)
    assert "running" in window.run_panel.progress_label.text()
    with qtbot.waitSignal(window.runner.cancelled, timeout=60_000):
        window.cancel()
    timer.stop()
    # The timer kept firing while the job ran: the upload, the event stream and the cancel never blocked the loop.
    gaps = np.diff([started, *ticks])
    assert len(ticks) >= 3 and gaps.max() < 0.5, f"{len(ticks)} ticks, longest gap {gaps.max():.3f} s"
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10_000)
    assert window.run_panel.run_button.isEnabled() and "cancelled" in window.run_panel.progress_label.text()
    assert window.document is not None and not window.document.has_result
    # Still usable: the next job runs to the end.
    window.run_panel.reference.setCurrentIndex(window.run_panel.reference.findData("lanczos"))
    assert window.open_file(small_photo)
    run_to_result(qtbot, window)
    assert window.document is not None and window.document.has_result


def test_a_backend_error_shows_its_message_and_keeps_the_painted_mask(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    assert window.open_file(small_photo)
    run_to_result(qtbot, window)
    document = window.document
    assert document is not None
    window.brush_action.trigger()
    canvas = window.canvas
    drag(canvas, [canvas.image_to_widget(p) for p in (_point(30, 30), _point(150, 120))])
    painted = document.mask().copy()
    assert document.editor is not None and document.editor.painted
    # fp16 does not run on a CPU: the backend fails the job with its own message and hint.
    window.run_panel.precision.setCurrentIndex(window.run_panel.precision.findData("fp16"))
    with qtbot.waitSignal(window.runner.failed, timeout=60_000):
        window.run()
    box = window.last_error
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "fp16" in box.text() and box.informativeText()
    assert np.array_equal(document.mask(), painted)
    assert document.has_result and document.modified


def _point(x: float, y: float):
    from qtpy.QtCore import QPointF

    return QPointF(x, y)


def test_a_damaged_file_shows_a_message_and_keeps_the_open_image(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    assert window.open_file(small_photo)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(small_photo.read_bytes()[:200])
    assert not window.open_file(damaged)
    box = window.last_error
    assert box is not None and box.isVisible() and "damaged.png" in box.windowTitle()
    assert window.document is not None and window.document.source.path == small_photo
