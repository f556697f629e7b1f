"""The first run as a new user meets it: a fresh ``LDL_STUDIO_HOME`` (no converted model, no settings), an image
opened from the command line, Upscale pressed and nothing else touched — and the job succeeds with the default model.
Also "Add model file…": a model file the user picks is imported through the backend and selected at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from pytestqt.qtbot import QtBot
from qtpy.QtGui import QStandardItemModel

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_client import DEFAULT_MODEL, ConnectSettings, Locations
from tests.server.conftest import COMPACT, Server, start_server
from tests.ui.conftest import write_photo
from ui.app import build_window
from ui.state.backend import BackendStatus
from ui.widgets.main_window import MainWindow


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("first-run-home"))


@pytest.fixture
def fresh_window(qtbot: QtBot, fresh_server: Server, tmp_path: Path, chelsea: np.ndarray) -> MainWindow:
    photo = write_photo(tmp_path / "photo.png", chelsea[120:144, 220:244])  # 24 × 24: the real ×4 model in seconds
    locations = Locations((fresh_server.home / "run" / "server.json",), tmp_path / "server.log")
    settings_path = tmp_path / "config" / "app.json"
    assert not settings_path.exists()
    window = build_window([photo], settings_path, ConnectSettings(start_server=False, locations=locations))
    qtbot.addWidget(window)
    window.resize(1500, 950)  # a desktop-sized window: the side panel at its narrowest
    window.show()
    return window


def test_a_first_run_upscales_with_the_default_model(qtbot: QtBot, fresh_window: MainWindow) -> None:
    window = fresh_window
    qtbot.waitUntil(lambda: window.backend.status is BackendStatus.READY, timeout=30_000)
    panel = window.run_panel
    assert panel.model.currentData() == DEFAULT_MODEL
    chosen = panel.current_model()
    assert chosen is not None and not chosen.installed and chosen.usable  # packaged: converted by this job
    assert "converted on first use" in panel.note.text()
    with qtbot.waitSignal(window.runner.succeeded, timeout=300_000):
        panel.run_button.click()
    document = window.document
    assert document is not None and document.layers is not None
    assert (document.layers.width, document.layers.height) == (96, 96)
    client = window.backend.client
    assert client is not None
    assert client.job(document.layers.job_id).model == DEFAULT_MODEL
    assert next(m for m in client.models() if m.name == DEFAULT_MODEL).installed


def test_models_that_cannot_run_are_greyed_out_with_how_to_get_them(qtbot: QtBot, fresh_window: MainWindow) -> None:
    window = fresh_window
    qtbot.waitUntil(lambda: window.backend.status is BackendStatus.READY, timeout=30_000)
    combo = window.run_panel.model
    items = combo.model()
    assert isinstance(items, QStandardItemModel)
    rows = {}
    for index in range(combo.count()):
        item = items.item(index)
        assert item is not None
        rows[combo.itemData(index)] = (item.isEnabled(), item.toolTip())
    assert combo.itemData(0) == DEFAULT_MODEL and rows[DEFAULT_MODEL][0]
    assert rows[COMPACT][0]
    enabled, tip = rows["ldl-realworld-rrdb-x4"]
    assert not enabled
    assert "net_g_RealESRGAN+LDL.pth" in tip and "ldl models import FILE --name ldl-realworld-rrdb-x4" in tip
    assert "fetched on first use" not in tip
    order = [combo.itemData(index) for index in range(combo.count())]
    assert order.index(COMPACT) < order.index("ldl-realworld-rrdb-x4")  # usable ones first
    # The default model's note wraps over several lines in the scroll area; all of them get room (a plain QLabel
    # got the height of fewer lines and overlapped the model list).
    note = window.run_panel.note
    qtbot.waitUntil(lambda: note.height() >= note.heightForWidth(note.width()) > 2 * note.fontMetrics().height())


def test_add_model_file_imports_and_selects_it(
    qtbot: QtBot, fresh_window: MainWindow, tmp_path: Path, tiny_rrdbnet: RRDBNet
) -> None:
    window = fresh_window
    qtbot.waitUntil(lambda: window.backend.status is BackendStatus.READY, timeout=30_000)
    picked = tmp_path / "My Tiny RRDB.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, picked)
    with qtbot.waitSignal(window.backend.model_imported, timeout=60_000) as imported:
        window.jobs.add_model_file(picked)
    assert imported.args is not None
    model = imported.args[0]
    assert window.run_panel.model.currentData() == model.name == "my-tiny-rrdb"
    chosen = window.run_panel.current_model()
    assert chosen is not None and chosen.usable and chosen.architecture == "RRDBNet"
    assert "added" in window.run_panel.progress_label.text()
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a model")
    with qtbot.waitSignal(window.backend.import_failed, timeout=60_000) as failed:
        window.jobs.add_model_file(junk)
    assert failed.args is not None
    message, hint = failed.args
    assert message and hint
    assert window.run_panel.model.currentData() == model.name
