"""The batch queue: many files, one set of options (model, reference, threshold), blends written to a folder."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ldl_backend.imageio import INPUT_SUFFIXES
from ldl_client import JobInfo
from ui.settings import AppSettings
from ui.state.backend import Backend, BackendStatus
from ui.state.batch import BatchQueue, ItemState
from ui.state.export import ExportFormat, ExportOptions
from ui.widgets.mask_panel import MaskPanel
from ui.widgets.messages import show_error
from ui.widgets.run_panel import RunPanel


class BatchDialog(QDialog):
    """Non-modal: the user keeps editing while the queue runs."""

    def __init__(
        self, parent: QWidget, backend: Backend, run_panel: RunPanel, mask_panel: MaskPanel, settings: AppSettings
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch upscale")
        self.resize(640, 480)
        self.queue = BatchQueue(self)
        self._backend, self._run_panel, self._mask_panel = backend, run_panel, mask_panel
        self.list = QListWidget()
        self.folder = QLineEdit(str(Path(settings.last_folder or Path.home()) / "ldl-output"))
        self.format = QComboBox()
        for choice in ExportFormat:
            self.format.addItem(choice.value.upper(), choice.value)
        self.format.setCurrentIndex(max(0, self.format.findData(settings.export_format)))
        self.summary = QLabel()
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        add_files, add_folder, browse = QPushButton("Add files…"), QPushButton("Add folder…"), QPushButton("…")
        adders = QHBoxLayout()
        adders.addWidget(add_files)
        adders.addWidget(add_folder)
        output = QHBoxLayout()
        output.addWidget(self.folder, 1)
        output.addWidget(browse)
        form = QFormLayout()
        form.addRow("Output folder", output)
        form.addRow("Format", self.format)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(adders)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(QLabel("Every file uses the model, reference, threshold and softness of the main window."))
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        add_files.clicked.connect(self._add_files)
        add_folder.clicked.connect(self._add_folder)
        browse.clicked.connect(self._browse)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.queue.cancel)
        self.queue.item_changed.connect(self._show_item)
        self.queue.progress.connect(self._show_progress)
        self.queue.finished.connect(self._finished)

    def add_paths(self, paths: list[Path]) -> None:
        self.queue.add([p for p in paths if p.suffix.lower() in INPUT_SUFFIXES])

    def export_options(self) -> ExportOptions:
        return ExportOptions(ExportFormat(self.format.currentData()))

    def start(self) -> bool:
        client = self._backend.client
        if self._backend.status is not BackendStatus.READY or client is None:
            self._backend.ensure_connected()
            show_error(self, "The backend is not ready yet", "It is starting; press Start again in a moment.")
            return False
        ramp = self._mask_panel.ramp()
        try:
            options = self._run_panel.options(ramp.threshold, ramp.softness)
            self.queue.start(client, options, Path(self.folder.text()), self.export_options())
        except (ValueError, RuntimeError, OSError) as error:
            show_error(self, "Cannot start the batch", str(error))
            return False
        self.start_button.setEnabled(False)
        return True

    def _add_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Add images", "", "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff)"
        )
        self.add_paths([Path(name) for name in names])

    def _add_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        if name:
            self.add_paths(sorted(p for p in Path(name).iterdir() if p.is_file()))

    def _browse(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Output folder", self.folder.text())
        if name:
            self.folder.setText(name)

    def _show_item(self, index: int) -> None:
        items = self.queue.items
        while self.list.count() < len(items):
            self.list.addItem("")
        item = items[index]
        row = self.list.item(index)
        if row is not None:
            row.setText(f"{item.source.name} — {item.state.value}{': ' + item.message if item.message else ''}")
        done = sum(i.state is ItemState.DONE for i in items)
        failed = sum(i.state is ItemState.FAILED for i in items)
        self.summary.setText(f"{done} done, {failed} failed, {len(items)} in all")

    def _show_progress(self, index: int, job: JobInfo) -> None:
        row = self.list.item(index)
        if row is not None and job.progress.total:
            name = self.queue.items[index].source.name
            row.setText(f"{name} — running: {job.progress.fraction:.0%}")

    def _finished(self) -> None:
        self.start_button.setEnabled(True)
