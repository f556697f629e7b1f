"""``ldl-studio [IMAGE...]``: start the desktop app."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from qtpy.QtWidgets import QApplication

from ldl_client import ConnectSettings
from ui.settings import default_settings_path, load_settings
from ui.state.backend import Backend
from ui.widgets.main_window import MainWindow


def build_window(paths: Sequence[Path], settings_path: Path, connect: ConnectSettings) -> MainWindow:
    """The main window with the settings at ``settings_path``, talking to the backend ``connect`` finds."""
    settings = load_settings(settings_path)
    backend = Backend(connect)
    window = MainWindow(backend, settings, settings_path)
    backend.setParent(window)
    window.open_paths(list(paths))
    backend.ensure_connected()
    return window


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in arguments):
        print("usage: ldl-studio [IMAGE...]\n\nOpens the images in LDL Studio (the first one, the rest in the batch).")
        return 0
    app = QApplication.instance() or QApplication([sys.argv[0], *[a for a in arguments if a.startswith("-")]])
    app.setApplicationName("LDL Studio")
    app.setOrganizationName("LDL Studio")
    # The backend runs in this interpreter's environment: the app and ``ldl`` are installed together.
    window = build_window(
        [Path(a) for a in arguments if not a.startswith("-")],
        default_settings_path(),
        ConnectSettings(python=sys.executable),
    )
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
