"""The connection to the backend process: found or started on demand, its status and model list observable."""

from __future__ import annotations

import enum
import threading
from pathlib import Path

from qtpy.QtCore import QObject

from ldl_client import Client, ClientError, ConnectSettings, Health, ModelInfo, connect
from ui.qt import Signal


class BackendStatus(enum.Enum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    READY = "ready"
    FAILED = "failed"


class Backend(QObject):
    """Finds the running backend (or starts one) on a thread; ``status_changed`` says how it went."""

    status_changed = Signal()
    # A model file the user added: its entry (``models`` already lists it), or (message, hint) when it was refused.
    model_imported = Signal(object)
    import_failed = Signal(str, str)

    def __init__(self, settings: ConnectSettings, parent: QObject | None = None, start_timeout: float = 60.0) -> None:
        super().__init__(parent)
        self._settings = settings
        self._start_timeout = start_timeout
        self._status = BackendStatus.OFFLINE
        self._client: Client | None = None
        self._health: Health | None = None
        self._models: list[ModelInfo] = []
        self._message = ""
        self._hint = ""
        self._thread: threading.Thread | None = None
        # The worker thread hands its outcome to the GUI thread through this signal.
        self._connected.connect(self._on_connected)
        self._imported.connect(self._on_imported)

    _connected = Signal(object)
    _imported = Signal(object)

    @property
    def status(self) -> BackendStatus:
        return self._status

    @property
    def client(self) -> Client | None:
        return self._client

    @property
    def health(self) -> Health | None:
        return self._health

    @property
    def models(self) -> list[ModelInfo]:
        return list(self._models)

    @property
    def message(self) -> str:
        """Why the status is what it is (an error message when FAILED)."""
        return self._message

    @property
    def hint(self) -> str:
        return self._hint

    def ensure_connected(self) -> None:
        """Connect in the background unless connected or connecting."""
        if self._status in (BackendStatus.READY, BackendStatus.CONNECTING):
            return
        self._set(BackendStatus.CONNECTING, "looking for the LDL Studio backend (starting it if needed)…", "")
        self._thread = threading.Thread(target=self._connect, daemon=True, name="ldl-connect")
        self._thread.start()

    def wait_connected(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def mark_lost(self, message: str) -> None:
        """A request failed to reach the backend: the next run connects again."""
        self._client = None
        self._set(BackendStatus.OFFLINE, message, "it is started again on the next run")

    def import_model(self, path: Path) -> bool:
        """Add the model file at ``path`` to the backend's catalog on a thread (``model_imported`` or
        ``import_failed`` tells how it went); False, doing nothing, unless connected."""
        client = self._client
        if self._status is not BackendStatus.READY or client is None:
            return False
        threading.Thread(target=self._import, args=(client, path), daemon=True, name="ldl-import").start()
        return True

    def _import(self, client: Client, path: Path) -> None:
        try:
            outcome: object = (client.import_model(path), client.models())
        except ClientError as error:
            outcome = error
        self._imported.emit(outcome)

    def _on_imported(self, outcome: object) -> None:
        if isinstance(outcome, ClientError):
            self.import_failed.emit(outcome.message, outcome.hint)
            return
        assert isinstance(outcome, tuple)
        model, self._models = outcome
        self.model_imported.emit(model)

    def _connect(self) -> None:
        try:
            client = connect(timeout=self._start_timeout, settings=self._settings)
            outcome: object = (client, client.health(), client.models())
        except ClientError as error:
            outcome = error
        self._connected.emit(outcome)

    def _on_connected(self, outcome: object) -> None:
        if isinstance(outcome, ClientError):
            self._client = None
            self._set(BackendStatus.FAILED, outcome.message, outcome.hint)
            return
        assert isinstance(outcome, tuple)
        self._client, self._health, self._models = outcome
        assert self._health is not None
        self._set(BackendStatus.READY, f"backend {self._health.version} ready", "")

    def _set(self, status: BackendStatus, message: str, hint: str) -> None:
        self._status, self._message, self._hint = status, message, hint
        self.status_changed.emit()
