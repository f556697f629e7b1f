"""Qt tests run on the offscreen platform (no display needed; widgets still render and grab()), against a real
backend on 127.0.0.1 with the compact model."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ldl_client import ConnectSettings, Locations
from tests.server.conftest import COMPACT, Server, start_server


@pytest.fixture(autouse=True)
def answer_unsaved_prompts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The unsaved-work question would block the test at teardown: answer Discard and record that it was asked."""
    from qtpy.QtWidgets import QMessageBox

    from ui.widgets.main_window import MainWindow

    asked: list[str] = []

    def discard(_window: MainWindow) -> QMessageBox.StandardButton:
        asked.append("unsaved")
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(MainWindow, "ask_unsaved", discard)
    return asked


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_server(tmp_path_factory.mktemp("ui-home"))


@pytest.fixture
def connect_settings(ui_server: Server, tmp_path: Path) -> ConnectSettings:
    locations = Locations((ui_server.home / "run" / "server.json",), tmp_path / "server.log")
    return ConnectSettings(start_server=False, locations=locations)


def profile_bytes() -> bytes:
    """A real RGB profile made by littleCMS: not the bytes the writer would tag an untagged image with, so a test
    can tell it was carried over."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def write_photo(path: Path, pixels: np.ndarray, icc: bytes | None = None) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", icc_profile=icc)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.chelsea())


@pytest.fixture
def small_photo(tmp_path: Path, chelsea: np.ndarray) -> Path:
    return write_photo(tmp_path / "cat.png", chelsea[100:148, 200:256], profile_bytes())


__all__ = ["COMPACT"]
