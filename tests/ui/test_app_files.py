"""Files in and out of the app: command line, drag and drop, recent files, settings, unsaved work, batch."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QMimeData, QPointF, Qt, QUrl
from qtpy.QtGui import QDropEvent
from qtpy.QtWidgets import QMessageBox

from ldl_backend.imageio import read_image
from ldl_client import ConnectSettings
from tests.ui.conftest import COMPACT, write_photo
from tests.ui.test_app_flow import make_window, run_to_result
from ui.app import build_window
from ui.settings import AppSettings, load_settings, save_settings
from ui.state.backend import Backend, BackendStatus
from ui.state.batch import ItemState
from ui.state.export import ExportFormat
from ui.widgets.main_window import MainWindow


def test_command_line_opens_the_first_image_and_queues_the_rest(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path, chelsea: np.ndarray
) -> None:
    second = write_photo(tmp_path / "second.png", chelsea[:40, :40])
    settings_path = tmp_path / "config" / "app.json"
    window = build_window([small_photo, second], settings_path, connect_settings)
    qtbot.addWidget(window)
    assert window.document is not None and window.document.source.path == small_photo
    batch = window.open_batch()
    assert [item.source for item in batch.queue.items] == [second]
    assert window.settings.recent_files[0] == str(small_photo)
    qtbot.waitUntil(lambda: window.backend.status is BackendStatus.READY, timeout=30_000)
    assert window.run_panel.model.count() > 0


def test_dropping_a_file_opens_it(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(small_photo)), QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    # Qt delivers a drop only during a real drag (which needs a window system), so the handler is called as Qt would.
    window.dropEvent(event)
    assert window.document is not None and window.document.source.path == small_photo


def test_settings_persist_across_restarts_and_a_broken_file_gives_defaults(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    assert window.open_file(small_photo)
    window.mask_panel.threshold.set_value(0.55)
    window.mask_panel.brush_size.set_value(77)
    window.mask_panel.overlay_opacity.set_value(0.25)
    window.run_panel.reference.setCurrentIndex(window.run_panel.reference.findData("tta:4"))
    assert window.close()
    stored = load_settings(tmp_path / "app.json")
    assert stored.threshold == pytest.approx(0.55) and stored.brush_radius == pytest.approx(77)
    assert stored.overlay_opacity == pytest.approx(0.25) and stored.reference == "tta:4"
    assert stored.recent_files == [str(small_photo)] and stored.model == COMPACT
    # A restarted window shows what was saved.
    again = make_window(qtbot, connect_settings, tmp_path / "again", **{})
    again.close()
    restarted = type(again)(again.backend, stored, tmp_path / "app.json")
    qtbot.addWidget(restarted)
    assert restarted.mask_panel.threshold.value() == pytest.approx(0.55)
    assert restarted.run_panel.reference.currentData() == "tta:4"
    # Broken files and wrong kinds of values fall back to defaults, value by value.
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert load_settings(broken) == AppSettings()
    broken.write_text(json.dumps({"threshold": "high", "brush_radius": 12, "recent_files": [1, 2]}), encoding="utf-8")
    partly = load_settings(broken)
    assert partly.threshold == AppSettings().threshold and partly.brush_radius == 12 and partly.recent_files == []
    save_settings(partly, broken)
    assert load_settings(broken) == partly


def test_closing_with_unsaved_work_asks_first(
    qtbot: QtBot,
    connect_settings: ConnectSettings,
    tmp_path: Path,
    small_photo: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer_unsaved_prompts: list[str],
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    assert window.open_file(small_photo)
    assert window.close()  # nothing upscaled yet: nothing to lose, no question
    assert answer_unsaved_prompts == []
    window.show()
    run_to_result(qtbot, window)
    monkeypatch.setattr(type(window), "ask_unsaved", lambda _w: QMessageBox.StandardButton.Cancel)
    assert not window.close()
    assert window.isVisible()
    monkeypatch.setattr(type(window), "ask_unsaved", lambda _w: QMessageBox.StandardButton.Discard)
    assert window.close()


def test_batch_applies_one_threshold_to_a_folder(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, chelsea: np.ndarray
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    folder = tmp_path / "photos"
    folder.mkdir()
    for index in range(3):
        write_photo(folder / f"photo{index}.png", chelsea[40 * index : 40 * index + 32, :40])
    (folder / "photo2.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (folder / "readme.txt").write_text("not an image", encoding="utf-8")
    window.mask_panel.threshold.set_value(0.2)
    dialog = window.open_batch()
    dialog.add_paths(sorted(folder.iterdir()))
    assert len(dialog.queue.items) == 3
    dialog.folder.setText(str(tmp_path / "out"))
    dialog.format.setCurrentIndex(dialog.format.findData(ExportFormat.TIFF.value))
    with qtbot.waitSignal(dialog.queue.finished, timeout=120_000):
        assert dialog.start()
    states = [item.state for item in dialog.queue.items]
    assert states == [ItemState.DONE, ItemState.DONE, ItemState.FAILED]
    assert "photo2.png" in dialog.queue.items[2].message or "damaged" in dialog.queue.items[2].message
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["photo0_ldl.tif", "photo1_ldl.tif"]
    result = read_image(tmp_path / "out" / "photo0_ldl.tif")
    assert result.dtype == np.uint16 and (result.width, result.height) == (160, 128)
    assert "2 done, 1 failed" in dialog.summary.text()


def test_the_backend_is_started_on_demand_and_its_status_shown(qtbot: QtBot, tmp_path: Path, small_photo: Path) -> None:
    home = tmp_path / "home"
    environment = {**os.environ, "LDL_STUDIO_HOME": str(home)}
    settings = ConnectSettings(python=sys.executable, environment=environment)
    backend = Backend(settings, start_timeout=120)
    window = MainWindow(backend, AppSettings(model=COMPACT, reference="lanczos"), None)
    backend.setParent(window)
    qtbot.addWidget(window)
    assert "offline" in window.status.text()
    try:
        assert window.open_file(small_photo)  # opening an image starts the backend in the background
        assert backend.status is BackendStatus.CONNECTING and "connecting" in window.status.text()
        qtbot.waitUntil(lambda: backend.status is not BackendStatus.CONNECTING, timeout=120_000)
        assert backend.status is BackendStatus.READY, backend.message
        assert "ready" in window.status.text()
        run_to_result(qtbot, window)
    finally:
        discovery = home / "run" / "server.json"
        if discovery.exists():
            os.kill(json.loads(discovery.read_text())["pid"], signal.SIGTERM)
