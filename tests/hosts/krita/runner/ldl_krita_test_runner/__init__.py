"""A Krita plugin for tests only: once Krita's main window is up, it runs pytest on the in-Krita tests, writes the
exit code and the report to files, marks every document unmodified and quits Krita.

It does nothing unless ``$LDL_KRITA_HOST_TEST`` names its configuration, a JSON file written by
tests/plugin/test_krita_host.py: ``{"tests": folder, "report": file, "result": file, "pytest_args": [...], ...}``
(the in-Krita tests read the rest of it). Every exception is caught here: an uncaught one would open Krita's modal
error dialog and hang the headless run.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from krita import Extension, Krita  # pyright: ignore[reportMissingImports, reportAttributeAccessIssue]
from PyQt5.QtCore import QTimer  # pyright: ignore[reportMissingImports]

CONFIG_VARIABLE = "LDL_KRITA_HOST_TEST"
WINDOW_WAIT_S = 60.0
POLL_MS = 200


def _write_json(path: Path, value: object) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=2), "utf-8")
    partial.replace(path)


def _run_pytest(config: dict) -> int:
    """pytest on the in-Krita tests, isolated from the repository's settings (its conftest files import torch)."""
    import pytest

    tests = str(config["tests"])
    arguments = [tests, "-c", os.devnull, "--rootdir", tests, "--confcutdir", tests, "-p", "no:cacheprovider"]
    arguments += [str(argument) for argument in config.get("pytest_args", [])]
    previous = Path.cwd()
    os.chdir(tests)  # test ids relative to the tests' folder (contextlib.chdir needs Python 3.11)
    # The terminal report goes to a file as it is written: a hang or crash still leaves the report so far.
    try:
        with (
            Path(config["report"]).open("w", encoding="utf-8", buffering=1) as stream,
            contextlib.redirect_stdout(stream),
            contextlib.redirect_stderr(stream),
        ):
            return int(pytest.main(arguments))
    finally:
        os.chdir(previous)


def _quit_krita() -> None:
    try:
        for document in Krita.instance().documents():
            document.setModified(False)  # else "Save changes?" blocks the quit
        # QApplication.quit() crashes Krita 5 (rc 139); the menu's own Quit action closes it cleanly.
        Krita.instance().action("file_quit").trigger()
    except BaseException:
        traceback.print_exc()


class HostTestRunner(Extension):
    def __init__(self, parent: object) -> None:
        super().__init__(parent)
        self._started = False
        self._deadline = 0.0

    def setup(self) -> None:
        pass

    def createActions(self, window: object) -> None:  # noqa: N802 (Krita's name)
        if self._started or not os.environ.get(CONFIG_VARIABLE):
            return
        self._started = True
        self._deadline = time.monotonic() + WINDOW_WAIT_S
        QTimer.singleShot(POLL_MS, self._when_window_shown)

    def _when_window_shown(self) -> None:
        try:
            window = Krita.instance().activeWindow()
            shown = window is not None and window.qwindow().isVisible()
            if not shown and time.monotonic() < self._deadline:
                QTimer.singleShot(POLL_MS, self._when_window_shown)
                return
        except BaseException:
            traceback.print_exc()
        self._run()
        QTimer.singleShot(0, _quit_krita)

    def _run(self) -> None:
        started = time.monotonic()
        outcome: dict[str, object] = {"exit_code": None, "error": None, "python": sys.version}
        result_path: Path | None = None
        try:
            config = json.loads(Path(os.environ[CONFIG_VARIABLE]).read_text("utf-8"))
            result_path = Path(config["result"])
            outcome["krita"] = Krita.instance().version()
            outcome["exit_code"] = _run_pytest(config)
        except BaseException:  # SystemExit and KeyboardInterrupt included: nothing may escape into Krita
            outcome["error"] = traceback.format_exc()
        outcome["seconds"] = round(time.monotonic() - started, 3)
        try:
            if result_path is not None:
                _write_json(result_path, outcome)
        except BaseException:
            traceback.print_exc()


Krita.instance().addExtension(HostTestRunner(Krita.instance()))
