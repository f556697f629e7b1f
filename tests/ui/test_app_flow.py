"""The app against a real backend: open, run, look, edit the mask, export — as a user does it."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QPointF

from ldl_backend.artifacts.masks import mask_from_map
from ldl_backend.imageio import read_image
from ldl_client import ConnectSettings
from tests.ui.conftest import COMPACT
from tests.ui.synthetic_input import drag
from ui.settings import AppSettings
from ui.state.backend import Backend, BackendStatus
from ui.state.document import View
from ui.state.export import ExportFormat, ExportOptions
from ui.state.raw_arrays import array_to_raw, raw_to_array
from ui.widgets.main_window import MainWindow


def make_window(qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, **settings: object) -> MainWindow:
    backend = Backend(connect_settings)
    values = {"model": COMPACT, "reference": "lanczos", **settings}
    window = MainWindow(backend, AppSettings(**values), tmp_path / "app.json")  # type: ignore[arg-type]
    backend.setParent(window)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    backend.ensure_connected()
    qtbot.waitUntil(lambda: backend.status is BackendStatus.READY, timeout=30_000)
    return window


def run_to_result(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.runner.succeeded, timeout=120_000):
        window.run()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10_000)


def test_open_run_and_switch_views(
    qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path
) -> None:
    window = make_window(qtbot, connect_settings, tmp_path)
    assert window.open_file(small_photo)
    document = window.document
    assert document is not None and not document.has_result
    assert window.canvas.image() is document.image(View.ORIGINAL)
    run_to_result(qtbot, window)
    assert document.has_result and document.layers is not None
    assert (document.layers.width, document.layers.height) == (56 * 4, 48 * 4)
    shown = {}
    for view in View:
        window.set_view(view)
        assert window.canvas.image() is document.image(view)
        shown[view] = window.canvas.grab().toImage()
    # Detail and reference differ, so the views really show different pictures.
    assert shown[View.DETAIL] != shown[View.REFERENCE]
    assert shown[View.ORIGINAL] != shown[View.DETAIL]


@pytest.fixture
def finished(qtbot: QtBot, connect_settings: ConnectSettings, tmp_path: Path, small_photo: Path) -> MainWindow:
    window = make_window(qtbot, connect_settings, tmp_path)
    assert window.open_file(small_photo)
    run_to_result(qtbot, window)
    return window


def test_overlay_toggles_and_threshold_changes_the_mask(qtbot: QtBot, finished: MainWindow) -> None:
    window, document = finished, finished.document
    assert document is not None and document.layers is not None
    plain = window.canvas.grab().toImage()
    window.overlay_action.trigger()
    assert window.mask_panel.overlay.isChecked()
    with_overlay = window.canvas.grab().toImage()
    assert with_overlay != plain
    window.overlay_action.trigger()
    assert window.canvas.grab().toImage() == plain
    artifact_map = document.layers.artifact_map
    before = document.mask().copy()
    window.mask_panel.threshold.set_value(0.05)
    qtbot.waitUntil(lambda: not document._pending, timeout=5000)
    after = document.mask()
    softness = window.mask_panel.softness.value()
    assert not np.array_equal(before, after)
    assert np.array_equal(after, mask_from_map(artifact_map, window.mask_panel.threshold.value(), softness))


def _image_point(window: MainWindow, x: float, y: float) -> QPointF:
    return window.canvas.image_to_widget(QPointF(x, y))


def test_brush_stroke_changes_the_mask_only_under_it_and_undo_restores(finished: MainWindow) -> None:
    window, document = finished, finished.document
    assert document is not None
    window.mask_panel.threshold.set_value(1.0)  # keep all detail: a remove stroke shows everywhere it reaches
    window.mask_panel.softness.set_value(0.0)
    window.mask_panel.remove.setChecked(True)
    window.mask_panel.brush_size.set_value(10)
    window.brush_action.trigger()
    before = document.mask().copy()
    start, end = (60.0, 80.0), (150.0, 90.0)
    drag(window.canvas, [_image_point(window, *start), _image_point(window, 100.0, 85.0), _image_point(window, *end)])
    after = document.mask().copy()
    changed = np.argwhere(after != before)
    assert len(changed) > 500
    # Every changed pixel centre lies within the brush radius (+ the half-pixel edge) of the stroke's line.
    centres = changed[:, ::-1] + 0.5
    distances = _distance_to_polyline(centres, [start, (100.0, 85.0), end])
    assert distances.max() <= 10.5 + 1e-3
    assert float(after[85, 100]) == 0.0  # under the stroke's middle: detail removed
    window.undo()
    assert np.array_equal(document.mask(), before)
    window.redo()
    assert np.array_equal(document.mask(), after)


def _distance_to_polyline(points: np.ndarray, line: list[tuple[float, float]]) -> np.ndarray:
    best = np.full(len(points), np.inf)
    for (ax, ay), (bx, by) in itertools.pairwise(line):
        a, b = np.array([ax, ay]), np.array([bx, by])
        t = np.clip(((points - a) @ (b - a)) / ((b - a) @ (b - a)), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * (b - a)), axis=1))
    return best


def test_exported_blend_equals_the_backends_reblend_and_keeps_the_profile(
    finished: MainWindow, tmp_path: Path, small_photo: Path
) -> None:
    window, document = finished, finished.document
    assert document is not None and document.layers is not None
    window.mask_panel.keep.setChecked(True)
    window.brush_action.trigger()
    drag(window.canvas, [_image_point(window, 20.0, 30.0), _image_point(window, 120.0, 140.0)])
    output = tmp_path / "out" / "cat_ldl.png"
    output.parent.mkdir()
    assert window.export_result(output, ExportOptions(ExportFormat.PNG))
    exported = read_image(output)
    client = window.backend.client
    assert client is not None
    client.reblend(document.layers.job_id, mask=array_to_raw(document.mask()))
    backend_blend = raw_to_array(client.layer(document.layers.job_id, "blend", "raw"))
    difference = np.abs(exported.colour.astype(np.int16) - backend_blend.astype(np.int16))
    assert difference.max() <= 1
    source_profile = read_image(small_photo).metadata.icc_profile
    assert source_profile and exported.metadata.icc_profile == source_profile
    assert not document.modified
    tiff = window.export_result(tmp_path / "out" / "cat_ldl.tif", ExportOptions(ExportFormat.TIFF))
    assert tiff
    deep = read_image(tmp_path / "out" / "cat_ldl.tif")
    assert deep.dtype == np.uint16 and deep.metadata.icc_profile == source_profile
    assert np.array_equal(deep.colour, exported.colour.astype(np.uint16) * 257)
    assert window.export_result(tmp_path / "out" / "cat_ldl.jpg", ExportOptions(ExportFormat.JPEG, quality=90))
    assert window.export_result(tmp_path / "out" / "cat_ldl.webp", ExportOptions(ExportFormat.WEBP))
    with Image.open(tmp_path / "out" / "cat_ldl.jpg") as jpeg:
        assert jpeg.info.get("icc_profile") == source_profile
    assert window.export_layer("mask", tmp_path / "out" / "mask.png")
    mask = read_image(tmp_path / "out" / "mask.png")
    assert mask.dtype == np.uint16
    assert np.abs(mask.colour[:, :, 0] / 65535.0 - document.mask()).max() <= 1 / 65535
    assert window.export_layer("map", tmp_path / "out" / "map.png")
    # An existing file is refused with a message and left as it was.
    kept = output.read_bytes()
    assert not window.export_result(output, ExportOptions(ExportFormat.PNG))
    assert window.last_error is not None and window.last_error.isVisible()
    assert output.read_bytes() == kept
