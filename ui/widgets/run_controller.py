"""Running the open image through the backend: connect (or start it) first when needed, follow the job, learn how
fast the machine is for the next estimate."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from qtpy.QtCore import QObject
from qtpy.QtWidgets import QFileDialog

from ldl_client import JobInfo, ModelInfo, learn
from ui.qt import Signal
from ui.settings import AppSettings
from ui.state.backend import Backend, BackendStatus
from ui.state.document import SourceImage
from ui.state.jobs import Failure, JobRunner
from ui.state.layers import ResultLayers
from ui.state.mask_editor import Ramp
from ui.widgets.run_panel import RunPanel

MODEL_FILTER = "Models (*.pth *.pt *.ckpt *.safetensors *.param)"


class RunController(QObject):
    """``result_ready(ResultLayers)`` when a job succeeded; ``error(title, message, hint)`` for the user."""

    result_ready = Signal(object)
    error = Signal(str, str, str)
    status_text = Signal(str)

    def __init__(
        self,
        backend: Backend,
        run_panel: RunPanel,
        settings: AppSettings,
        source: Callable[[], SourceImage | None],
        ramp: Callable[[], Ramp],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend = backend
        self.runner = JobRunner(self)
        self._panel = run_panel
        self._settings = settings
        self._source = source
        self._ramp = ramp
        self._pending = False
        self._pending_import: Path | None = None
        self._started = 0.0
        backend.status_changed.connect(self._on_backend_status)
        backend.model_imported.connect(self._on_model_imported)
        backend.import_failed.connect(lambda message, hint: self.error.emit("Model not added", message, hint))
        run_panel.run_requested.connect(self.run)
        run_panel.add_model_requested.connect(self.add_model_dialog)
        run_panel.cancel_requested.connect(self.cancel)
        self.runner.progress.connect(self._on_progress)
        self.runner.succeeded.connect(self._on_succeeded)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(lambda: run_panel.show_outcome("cancelled"))
        self.runner.busy_changed.connect(run_panel.set_running)

    def run(self) -> None:
        """Upscale the open image; connects to (or starts) the backend first when needed."""
        source = self._source()
        if source is None:
            self.error.emit("No image", "Open an image first (File › Open or drop one here)", "")
            return
        if self.runner.busy:
            return
        client = self.backend.client
        if self.backend.status is not BackendStatus.READY or client is None:
            self._pending = True
            self._panel.show_outcome("starting the backend…")
            self.backend.ensure_connected()
            return
        ramp = self._ramp()
        try:
            options = self._panel.options(ramp.threshold, ramp.softness)
        except ValueError as error:
            self.error.emit("Cannot upscale yet", str(error), "")
            return
        self._panel.remember()
        self._started = time.monotonic()
        self.runner.start(client, source.payload(), options)

    def cancel(self) -> None:
        self._pending = False
        self.runner.cancel()

    def add_model_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self._panel, "Add model file", self._settings.last_folder, MODEL_FILTER)
        if name:
            self.add_model_file(Path(name))

    def add_model_file(self, path: Path) -> None:
        """Import ``path`` through the backend (connecting first when needed); it is then selected."""
        self._panel.show_outcome(f"adding {path.name}…")
        if not self.backend.import_model(path):
            self._pending_import = path
            self.backend.ensure_connected()

    def _on_model_imported(self, model: ModelInfo) -> None:
        self._panel.set_models(self.backend.models, select=model.name)
        self._panel.show_outcome(f"added {model.name} (×{model.scale}, {model.architecture})")

    def _on_backend_status(self) -> None:
        backend = self.backend
        detail = f" — {backend.message}" if backend.message else ""
        self.status_text.emit(f"Backend: {backend.status.value}{detail}")
        if backend.status is BackendStatus.READY:
            self._panel.set_models(backend.models)
            health = backend.health
            self._panel.set_devices(list(health.devices) if health is not None else ["cpu"])
            if self._pending_import is not None:
                path, self._pending_import = self._pending_import, None
                self.backend.import_model(path)
            if self._pending:
                self._pending = False
                self.run()
        elif backend.status is BackendStatus.FAILED and self._pending_import is not None:
            self._pending_import = None
            self.error.emit("Model not added", backend.message, backend.hint)
        elif backend.status is BackendStatus.FAILED and self._pending:
            self._pending = False
            self._panel.show_outcome("the backend did not start")
            self.error.emit("The backend did not start", backend.message, backend.hint)

    def _on_progress(self, job: JobInfo) -> None:
        self._panel.show_progress(job)

    def _on_succeeded(self, layers: ResultLayers) -> None:
        model = self._panel.current_model()
        if model is not None:
            seconds = time.monotonic() - self._started
            device = str(self._panel.device.currentData() or "auto")
            pixels = layers.width * layers.height
            reference = self._panel.reference_source()
            learn(model.name, device, reference, pixels, seconds, self._settings.seconds_per_megapixel)
        self._panel.show_outcome(f"done: {layers.width} × {layers.height}")
        self.result_ready.emit(layers)

    def _on_failed(self, failure: Failure) -> None:
        self._panel.show_outcome(f"failed: {failure.message}")
        if failure.code in ("connection", "ConnectionFailed"):
            self.backend.mark_lost(failure.message)
        self.error.emit("Upscale failed", failure.message, failure.hint)
