"""The Krita extension: two actions in Filter › Enhance and the flows behind them (GUI thread only).

"Upscale with LDL…": check the document → connect to the backend (starting it if needed) off the GUI thread →
the dialog → read the pixels → the job off the GUI thread with progress and Cancel → change the document.
Every error ends in one message box with the message and the hint; nothing changes unless the job succeeded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from .backend_settings import connect_settings
from .client_import import Client, ClientError, Health, ModelInfo, connect, dump_rates, learn, load_rates
from .dialog import UpscaleDialog
from .errors import Cancelled, PluginError
from .job import describe_progress, run_job
from .qt import QMessageBox, QtGui, QWidget
from .selection_blend import blend_detail_into_selection
from .task import ProgressRunner
from .upscale import PreparedUpscale, UpscaleRequest, apply_upscale, check_document, prepare_upscale

UPSCALE_ACTION = ("ldl_upscale", "Upscale with LDL…", "filter/enhance_filters")
BLEND_ACTION = ("ldl_blend_selection", "LDL: blend detail into selection", "filter/enhance_filters")
SETTINGS_GROUP = "ldl_krita"
PACKAGE_DIR = Path(__file__).resolve().parent
# A server that has to be started loads torch first: give it time.
CONNECT_TIMEOUT = 120.0
# Krita's module, imported by name: this module is only imported inside Krita (see __init__), and the name keeps
# type checkers from resolving it to the plugin folder, which is also called krita.
_krita_api: Any = import_module("krita")


def register() -> None:
    """Add the extension to Krita (called by the package's ``__init__``, inside Krita only)."""
    instance = _krita_api.Krita.instance()
    instance.addExtension(LdlExtension(instance))


class LdlExtension(_krita_api.Extension):
    """The two actions; one instance for Krita's lifetime, its ``createActions`` runs once per window."""

    def __init__(self, parent: Any) -> None:
        super().__init__(parent)
        self._runner: ProgressRunner[Any] | None = None

    def setup(self) -> None:
        pass

    def createActions(self, window: Any) -> None:
        upscale = window.createAction(*UPSCALE_ACTION)
        upscale.triggered.connect(self.upscale)
        blend = window.createAction(*BLEND_ACTION)
        blend.triggered.connect(self.blend_selection)

    # --- "LDL: blend detail into selection" ---

    def blend_selection(self) -> None:
        document = _krita().activeDocument()
        if document is None:
            _show_error(PluginError("there is no image open", "open an image and run Upscale with LDL… first"))
            return
        try:
            blend_detail_into_selection(document)
        except PluginError as e:
            _show_error(e)

    # --- "Upscale with LDL…" ---

    def upscale(self) -> None:
        document = _krita().activeDocument()
        try:
            if self._runner is not None:
                raise PluginError("LDL is already working on an upscale", "wait for it to finish, or cancel it")
            if document is None:
                raise PluginError("there is no image open", "open the image to upscale first")
            check_document(document)
            settings = connect_settings(PACKAGE_DIR)
        except PluginError as e:
            _show_error(e)
            return

        def work(
            cancel: threading.Event, report: Callable[[int, int, str], None]
        ) -> tuple[Client, list[ModelInfo], Health]:
            client = connect(timeout=CONNECT_TIMEOUT, settings=settings)
            return client, client.models(), client.health()

        self._run(
            "LDL Studio",
            work,
            lambda found: self._choose(document, *found),
            lambda done, total, stage: "Connecting to the LDL Studio backend (starting it when it is not running)…",
            abandon_on_cancel=True,  # connect() cannot be interrupted; a server it starts keeps starting
        )

    def _choose(self, document: Any, client: Client, models: list[ModelInfo], health: Health) -> None:
        if not models:
            _show_error(PluginError("the backend lists no models", "import one with `ldl models import FILE`"))
            return
        selection = document.selection()
        size = (document.width(), document.height())
        rates = load_rates(_read_setting("seconds_per_megapixel"))
        dialog = UpscaleDialog(
            models,
            health.devices,
            size,
            selection is not None,
            rates,
            _last_request(),
            parent=_parent(),
            import_model=client.import_model,  # "Add model file…": the dialog calls it off the GUI thread
        )
        if not dialog.exec():  # 0 = rejected, in PyQt5 and PyQt6 alike
            return
        try:
            request = dialog.request()
            prepared = prepare_upscale(document, request)
        except (PluginError, ValueError) as e:
            _show_error(e)
            return
        _write_setting("last_request", request.to_setting())
        started = time.monotonic()

        def work(cancel: threading.Event, report: Callable[[int, int, str], None]) -> Any:
            return run_job(client, prepared.image, request.options, prepared.fmt, on_progress=report, cancel=cancel)

        self._run(
            "Upscale with LDL",
            work,
            lambda layers: self._apply(prepared, layers, started),
            describe_progress,
        )

    def _apply(self, prepared: PreparedUpscale, layers: Any, started: float) -> None:
        try:
            outcome = apply_upscale(prepared, layers)
        except PluginError as e:
            _show_error(e)
            return
        request = prepared.request
        rates = load_rates(_read_setting("seconds_per_megapixel"))
        seconds = time.monotonic() - started
        options = request.options
        learn(options.model, options.device, options.reference, outcome.width * outcome.height, seconds, rates)
        _write_setting("seconds_per_megapixel", dump_rates(rates))
        _floating_message(
            f"LDL: {outcome.width}×{outcome.height} in {seconds:.0f} s. Paint the mask '{outcome.names.mask}' "
            "black to hide detail, white to keep it."
        )

    def _run(
        self,
        title: str,
        work: Callable[[threading.Event, Callable[[int, int, str], None]], Any],
        on_done: Callable[[Any], None],
        describe: Callable[[int, int, str], str],
        abandon_on_cancel: bool = False,
    ) -> None:
        def finished(result: Any) -> None:
            self._runner = None
            on_done(result)

        def failed(error: BaseException) -> None:
            self._runner = None
            _show_error(error)

        # Kept on the extension: the runner's timer and dialog must outlive this call.
        self._runner = ProgressRunner(_parent(), title, work, finished, failed, describe, abandon_on_cancel)
        self._runner.start()


def _show_error(error: BaseException) -> None:
    if isinstance(error, Cancelled):
        return  # the user asked for it; nothing changed
    if isinstance(error, (PluginError, ClientError)):
        text, hint = error.message, error.hint
    else:
        text, hint = f"{type(error).__name__}: {error}", "this is a bug in the LDL Studio plugin; please report it"
    box = QMessageBox(QMessageBox.Icon.Warning, "LDL Studio", text, QMessageBox.StandardButton.Ok, _parent())
    if hint:
        box.setInformativeText(hint)
    box.exec()


def _krita() -> Any:
    return _krita_api.Krita.instance()


def _parent() -> QWidget | None:
    window = _krita().activeWindow()
    return window.qwindow() if window is not None else None


def _floating_message(text: str) -> None:
    window = _krita().activeWindow()
    view = window.activeView() if window is not None else None
    if view is not None:
        view.showFloatingMessage(text, QtGui.QIcon(), 6000, 1)


def _read_setting(name: str) -> str:
    return str(_krita().readSetting(SETTINGS_GROUP, name, ""))


def _write_setting(name: str, value: str) -> None:
    _krita().writeSetting(SETTINGS_GROUP, name, value)


def _last_request() -> UpscaleRequest | None:
    try:
        return UpscaleRequest.from_setting(_read_setting("last_request"))
    except (ValueError, TypeError):
        return None  # none saved yet, or from another version: the dialog's defaults serve
