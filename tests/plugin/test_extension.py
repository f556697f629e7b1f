"""The package registers its extension only inside Krita; the actions land in Filter › Enhance; errors become one
message box with the hint. A stand-in ``krita`` module plays Krita here (the real one: tests/plugin/test_krita_host.py).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from .fake_krita import FakeKrita


class KritaApp(FakeKrita):
    def __init__(self) -> None:
        super().__init__()
        self.extensions: list[Any] = []
        self.settings: dict[tuple[str, str], str] = {}
        self.active_document: Any = None

    def addExtension(self, extension: Any) -> None:
        self.extensions.append(extension)

    def activeDocument(self) -> Any:
        return self.active_document

    def activeWindow(self) -> Any:
        return None  # no main window: dialogs get no parent

    def readSetting(self, group: str, name: str, default: str) -> str:
        return self.settings.get((group, name), default)

    def writeSetting(self, group: str, name: str, value: str) -> None:
        self.settings[(group, name)] = value


class MenuWindow:
    def __init__(self) -> None:
        self.created: list[tuple[str, str, str]] = []

    def createAction(self, name: str, text: str, menu: str) -> Any:
        from ldl_krita.qt import QtGui

        self.created.append((name, text, menu))
        return QtGui.QAction(text)


@pytest.fixture
def krita_app(monkeypatch: pytest.MonkeyPatch) -> KritaApp:
    from ldl_krita.qt import QtCore

    app = KritaApp()
    module = types.ModuleType("krita")

    class Extension(QtCore.QObject):
        def __init__(self, parent: Any) -> None:
            super().__init__(None)

    module.Extension = Extension  # type: ignore[attr-defined]
    module.Krita = types.SimpleNamespace(instance=lambda: app)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "krita", module)
    for name in [name for name in sys.modules if name == "ldl_krita" or name.startswith("ldl_krita.")]:
        monkeypatch.delitem(sys.modules, name)  # imported afresh below, put back afterwards
    return app


@pytest.fixture
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []

    def record(box: Any) -> int:
        shown.append((box.text(), box.informativeText()))
        return 0

    from ldl_krita.qt import QMessageBox

    monkeypatch.setattr(QMessageBox, "exec", record)
    return shown


def test_inside_krita_the_package_registers_two_actions_in_filter_enhance(krita_app: KritaApp, qtbot: QtBot) -> None:
    importlib.import_module("ldl_krita")
    (extension,) = krita_app.extensions
    window = MenuWindow()
    extension.createActions(window)
    assert window.created == [
        ("ldl_upscale", "Upscale with LDL…", "filter/enhance_filters"),
        ("ldl_blend_selection", "LDL: blend detail into selection", "filter/enhance_filters"),
    ]


def test_outside_krita_importing_registers_nothing() -> None:
    assert "krita" not in sys.modules
    import ldl_krita

    assert not hasattr(ldl_krita, "register")


def test_errors_become_a_message_box_with_the_hint(
    krita_app: KritaApp, message_boxes: list[tuple[str, str]], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    extension_module = importlib.import_module("ldl_krita.extension")
    extension = extension_module.LdlExtension(krita_app)
    extension.blend_selection()
    assert message_boxes[-1] == ("there is no image open", "open an image and run Upscale with LDL… first")
    krita_app.active_document = krita_app.createDocument(8, 8, "c", "CMYKA", "U8", "", 72.0)
    monkeypatch.setattr(extension_module, "connect", lambda **_: pytest.fail("no backend for an unsupported image"))
    extension.upscale()
    text, hint = message_boxes[-1]
    assert "CMYKA" in text and "Convert Image Color Space" in hint
    krita_app.active_document = krita_app.open_document(b"\0" * 256, 8, 8, "RGBA", "U8")
    extension.blend_selection()
    assert message_boxes[-1][0] == "there is no selection to blend the detail into"
