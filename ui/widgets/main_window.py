"""The main window: the canvas in the middle, the run and mask panels at the side, views and tools on a toolbar."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QPointF, QRect, Qt
from qtpy.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from qtpy.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QMessageBox,
    QScrollArea,
    QStatusBar,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ldl_backend.errors import LdlError
from ldl_backend.imageio import INPUT_SUFFIXES, read_image
from ui.settings import AppSettings, save_settings
from ui.state.backend import Backend
from ui.state.display import MaskStyle
from ui.state.document import Document, Resample, SourceImage, View, rect_box
from ui.state.export import ExportFormat, ExportOptions, export_gray, export_image
from ui.state.layers import ResultLayers
from ui.state.mask_editor import Ramp
from ui.widgets.batch_dialog import BatchDialog
from ui.widgets.canvas import Canvas, CanvasTool
from ui.widgets.mask_panel import MaskPanel
from ui.widgets.messages import show_error
from ui.widgets.run_controller import RunController
from ui.widgets.run_panel import RunPanel

VIEW_KEYS = {View.ORIGINAL: "1", View.REFERENCE: "2", View.DETAIL: "3", View.RESULT: "4"}
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"


class MainWindow(QMainWindow):
    def __init__(self, backend: Backend, settings: AppSettings, settings_path: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("LDL Studio")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.backend = backend
        self.settings = settings
        self._settings_path = settings_path
        self.document: Document | None = None
        self.view = View.RESULT
        self.last_error: QMessageBox | None = None
        self.canvas = Canvas()
        self.setCentralWidget(self.canvas)
        self.run_panel = RunPanel(settings)
        self.mask_panel = MaskPanel(settings)
        self._add_side_panel()
        self.status = QLabel()
        self.status_bar = QStatusBar()
        self.setStatusBar(self.status_bar)
        self.status_bar.addPermanentWidget(self.status)
        self.jobs = RunController(
            backend,
            self.run_panel,
            settings,
            lambda: None if self.document is None else self.document.source,
            self.mask_panel.ramp,
            self,
        )
        self.runner = self.jobs.runner
        self._actions()
        self._connect()
        self.status.setText(f"Backend: {backend.status.value}")
        self._on_history()

    # Layout and actions ------------------------------------------------------------------------------------------

    def _add_side_panel(self) -> None:
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.addWidget(self.run_panel)
        layout.addWidget(self.mask_panel)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(330)
        dock = QDockWidget("Upscale", self)
        dock.setObjectName("side-panel")
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _action(self, text: str, slot: object, shortcut: str | QKeySequence.StandardKey | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)  # type: ignore[arg-type]
        self.addAction(action)
        return action

    def _menu(self, bar: QMenuBar, title: str) -> QMenu:
        menu = QMenu(title, self)
        bar.addMenu(menu)
        return menu

    def _actions(self) -> None:
        menu = QMenuBar()
        self.setMenuBar(menu)
        files = self._menu(menu, "&File")
        files.addAction(self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open))
        self.recent_menu = QMenu("Open &Recent", self)
        files.addMenu(self.recent_menu)
        self.export_action = self._action("&Export Result…", self.export_dialog, "Ctrl+E")
        files.addAction(self.export_action)
        files.addAction(self._action("Export &Mask…", lambda: self.export_layer_dialog("mask")))
        files.addAction(self._action("Export Artifact &Map…", lambda: self.export_layer_dialog("map")))
        files.addSeparator()
        files.addAction(self._action("&Batch…", self.open_batch, "Ctrl+B"))
        files.addSeparator()
        files.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        edit = self._menu(menu, "&Edit")
        self.undo_action = self._action("&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("&Redo", self.redo, QKeySequence.StandardKey.Redo)
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        edit.addAction(self._action("&Invert Mask", self.invert_mask, "Ctrl+I"))
        edit.addAction(self._action("&Clear Strokes", self.clear_mask))
        view = self._menu(menu, "&View")
        toolbar = QToolBar("View")
        toolbar.setObjectName("view-toolbar")
        self.addToolBar(toolbar)
        group = QActionGroup(self)
        self.view_actions: dict[View, QAction] = {}
        for choice in View:
            action = self._action(choice.value.capitalize(), lambda _c=False, v=choice: self.set_view(v))
            action.setShortcut(QKeySequence(VIEW_KEYS[choice]))
            action.setCheckable(True)
            group.addAction(action)
            view.addAction(action)
            toolbar.addAction(action)
            self.view_actions[choice] = action
        self.view_actions[self.view].setChecked(True)
        self.split_action = self._action("Split Before/After", self.update_canvas, "S")
        self.split_action.setCheckable(True)
        self.overlay_action = self._action("Artifact Map Overlay", self._overlay_toggled, "M")
        self.overlay_action.setCheckable(True)
        toolbar.addSeparator()
        for action in (self.split_action, self.overlay_action):
            view.addAction(action)
            toolbar.addAction(action)
        self.nearest_action = self._action("Original as Pixels (Nearest)", self._resample_changed)
        self.nearest_action.setCheckable(True)
        self.nearest_action.setChecked(self.settings.original_resample == Resample.NEAREST.value)
        view.addAction(self.nearest_action)
        view.addSeparator()
        view.addAction(self._action("&Fit", self.canvas.fit, "Ctrl+0"))
        view.addAction(self._action("&Actual Size", self.canvas.actual_size, "Ctrl+1"))
        tools = QActionGroup(self)
        self.pan_action = self._action("Pan", lambda: self.set_tool(CanvasTool.PAN), "H")
        self.brush_action = self._action("Brush", lambda: self.set_tool(CanvasTool.BRUSH), "B")
        toolbar.addSeparator()
        for action in (self.pan_action, self.brush_action):
            action.setCheckable(True)
            tools.addAction(action)
            toolbar.addAction(action)
        self.pan_action.setChecked(True)
        self._action("Smaller Brush", lambda: self._resize_brush(1 / 1.25), "[")
        self._action("Larger Brush", lambda: self._resize_brush(1.25), "]")
        self._fill_recent()

    def _connect(self) -> None:
        self.jobs.result_ready.connect(self._on_result)
        self.jobs.error.connect(self._on_error)
        self.jobs.status_text.connect(self.status.setText)
        self.mask_panel.ramp_changed.connect(self._on_ramp)
        self.mask_panel.brush_changed.connect(lambda brush: self.canvas.set_brush_radius(brush.radius))
        self.mask_panel.overlay_changed.connect(lambda shown, _o: self.overlay_action.setChecked(shown))
        self.mask_panel.overlay_changed.connect(lambda _s, _o: self.update_canvas())
        self.mask_panel.mask_style_changed.connect(self._on_mask_style)
        self.mask_panel.undo.clicked.connect(self.undo)
        self.mask_panel.redo.clicked.connect(self.redo)
        self.mask_panel.invert.clicked.connect(self.invert_mask)
        self.mask_panel.clear.clicked.connect(self.clear_mask)
        self.canvas.stroke_started.connect(self._stroke_started)
        self.canvas.stroke_moved.connect(self._stroke_moved)
        self.canvas.stroke_finished.connect(self._stroke_finished)
        self.canvas.set_brush_radius(self.mask_panel.brush().radius)

    # Files ---------------------------------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Open images", self.settings.last_folder, IMAGE_FILTER)
        self.open_paths([Path(name) for name in names])

    def open_paths(self, paths: list[Path]) -> None:
        """Open the first image; further ones go to the batch queue."""
        if not paths:
            return
        if self.open_file(paths[0]) and len(paths) > 1:
            self.open_batch().add_paths(paths[1:])

    def open_file(self, path: Path) -> bool:
        """Open ``path`` (replacing the current image after asking about unsaved work); False when it failed."""
        if self.runner.busy:
            self.last_error = show_error(self, "A job is running", "Wait for it or cancel it before opening another")
            return False
        if not self.confirm_discard():
            return False
        try:
            data = path.read_bytes()
            image = read_image(path)
        except LdlError as error:
            self.last_error = show_error(self, f"Cannot open {path.name}", error.message, error.hint)
            return False
        except OSError as error:
            self.last_error = show_error(self, f"Cannot open {path.name}", str(error), "check the file and try again")
            return False
        resample = Resample(self.settings.original_resample)
        self._set_document(Document(SourceImage(path, data, image), resample))
        self.settings.add_recent(path)
        self.settings.last_folder = str(path.parent)
        self._fill_recent()
        self.run_panel.set_output_pixels(image.width, image.height)
        self.setWindowTitle(f"{path.name} — LDL Studio")
        self.backend.ensure_connected()  # start the backend while the user looks at the image
        return True

    def _set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.deleteLater()
        self.document = document
        document.display_changed.connect(self._on_display_changed)
        document.result_changed.connect(self.update_canvas)
        document.history_changed.connect(self._on_history)
        self.canvas.set_image(None)  # a new size: fit again
        self.update_canvas()
        self._on_history()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for name in self.settings.recent_files:
            action = QAction(name, self.recent_menu)
            action.triggered.connect(lambda _c=False, n=name: self.open_paths([Path(n)]))
            self.recent_menu.addAction(action)
        self.recent_menu.setEnabled(bool(self.settings.recent_files))

    def dragEnterEvent(self, a0: QDragEnterEvent | None) -> None:  # noqa: N802 - Qt's name
        mime = None if a0 is None else a0.mimeData()
        if a0 is not None and mime is not None and mime.hasUrls():
            a0.acceptProposedAction()

    def dropEvent(self, a0: QDropEvent | None) -> None:  # noqa: N802 - Qt's name
        mime = None if a0 is None else a0.mimeData()
        if mime is None:
            return
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        readable = [p for p in paths if p.suffix.lower() in INPUT_SUFFIXES]
        self.open_paths(readable)

    # Running -------------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Upscale the open image; connects to (or starts) the backend first when needed."""
        self.jobs.run()

    def cancel(self) -> None:
        self.jobs.cancel()

    def _on_result(self, layers: ResultLayers) -> None:
        if self.document is not None:
            self.document.set_result(layers, self.mask_panel.ramp())
            self.set_view(View.RESULT)
            self._save_settings()

    def _on_error(self, title: str, message: str, hint: str) -> None:
        self.last_error = show_error(self, title, message, hint)

    # Views and editing -------------------------------------------------------------------------------------------

    def set_view(self, view: View) -> None:
        self.view = view
        self.view_actions[view].setChecked(True)
        self.update_canvas()

    def update_canvas(self) -> None:
        document = self.document
        if document is None:
            self.canvas.set_image(None)
            return
        self.canvas.set_image(document.image(self.view))
        split = self.split_action.isChecked()
        self.canvas.set_split_image(document.image(View.ORIGINAL) if split else None)
        overlay_shown = self.overlay_action.isChecked()
        if self.mask_panel.overlay.isChecked() != overlay_shown:
            self.mask_panel.overlay.setChecked(overlay_shown)
        opacity = self.mask_panel.overlay_opacity.value()
        self.canvas.set_overlay(document.overlay_image() if overlay_shown else None, opacity)
        # The mask shows while painting; otherwise the result is seen as it will be exported.
        painting = self.canvas.tool is CanvasTool.BRUSH
        self.canvas.set_decoration(document.decoration_image() if painting else None, 1.0)

    def set_tool(self, tool: CanvasTool) -> None:
        self.canvas.set_tool(tool)
        (self.brush_action if tool is CanvasTool.BRUSH else self.pan_action).setChecked(True)
        self.update_canvas()

    def _resample_changed(self) -> None:
        resample = Resample.NEAREST if self.nearest_action.isChecked() else Resample.BICUBIC
        self.settings.original_resample = resample.value
        if self.document is not None:
            self.document.set_resample(resample)

    def _overlay_toggled(self) -> None:
        self.update_canvas()

    def _on_display_changed(self, rect: QRect) -> None:
        self.canvas.refresh(rect)

    def _on_ramp(self, ramp: object) -> None:
        if self.document is not None and isinstance(ramp, Ramp):
            self.document.set_ramp(ramp, rect_box(self.canvas.visible_image_rect()))

    def _on_mask_style(self, style: object) -> None:
        if self.document is not None and isinstance(style, MaskStyle):
            self.document.set_mask_style(style)

    def _stroke_started(self, point: QPointF) -> None:
        if self.document is not None and self.document.has_result:
            self.document.begin_stroke(point.x(), point.y(), self.mask_panel.brush())

    def _stroke_moved(self, point: QPointF) -> None:
        if self.document is not None:
            self.document.extend_stroke(point.x(), point.y())

    def _stroke_finished(self) -> None:
        if self.document is not None:
            self.document.end_stroke()

    def _resize_brush(self, factor: float) -> None:
        self.mask_panel.brush_size.set_value(self.mask_panel.brush_size.value() * factor)

    def undo(self) -> None:
        if self.document is not None:
            self.document.undo()

    def redo(self) -> None:
        if self.document is not None:
            self.document.redo()

    def invert_mask(self) -> None:
        if self.document is not None:
            self.document.invert()

    def clear_mask(self) -> None:
        if self.document is not None:
            self.document.clear()

    def _on_history(self) -> None:
        editor = None if self.document is None else self.document.editor
        can_undo, can_redo = (False, False) if editor is None else (editor.can_undo, editor.can_redo)
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.mask_panel.set_history(can_undo, can_redo)

    # Export --------------------------------------------------------------------------------------------------------

    def export_dialog(self) -> None:
        if not self._has_result_or_say():
            return
        assert self.document is not None
        suggested = self.document.source.path.with_name(f"{self.document.source.path.stem}_ldl.png")
        name, _ = QFileDialog.getSaveFileName(
            self, "Export result", str(suggested), "PNG (*.png);;TIFF 16-bit (*.tif);;JPEG (*.jpg);;WebP (*.webp)"
        )
        if not name:
            return
        chosen = ExportFormat.from_path(Path(name)) or ExportFormat.PNG
        quality = self.settings.jpeg_quality
        if chosen in (ExportFormat.JPEG, ExportFormat.WEBP):
            quality, accepted = QInputDialog.getInt(self, "Export quality", "Quality (1–100):", quality, 1, 100)
            if not accepted:
                return
            self.settings.jpeg_quality = quality
        # The file dialog already asked about replacing an existing file.
        self.export_result(Path(name), ExportOptions(chosen, quality, overwrite=True))

    def export_result(self, path: Path, options: ExportOptions) -> bool:
        """Write the blend under the current mask to ``path``; errors are shown and nothing is written."""
        if not self._has_result_or_say():
            return False
        assert self.document is not None
        try:
            export_image(self.document.result_image(), path, options)
        except LdlError as error:
            self.last_error = show_error(self, "Export failed", error.message, error.hint)
            return False
        self.document.mark_saved()
        self.settings.export_format = options.format.value
        self.status_bar.showMessage(f"exported {path}", 5000)
        return True

    def export_layer_dialog(self, which: str) -> None:
        if not self._has_result_or_say():
            return
        assert self.document is not None
        suggested = self.document.source.path.with_name(f"{self.document.source.path.stem}_{which}.png")
        name, _ = QFileDialog.getSaveFileName(self, f"Export {which}", str(suggested), "PNG (*.png);;TIFF (*.tif)")
        if name:
            self.export_layer(which, Path(name), overwrite=True)

    def export_layer(self, which: str, path: Path, overwrite: bool = False) -> bool:
        """Write the mask or the artifact map as 16-bit gray."""
        if not self._has_result_or_say():
            return False
        document = self.document
        assert document is not None and document.layers is not None
        values = document.mask() if which == "mask" else document.layers.artifact_map
        try:
            export_gray(values, document.source.image.metadata, path, overwrite)
        except LdlError as error:
            self.last_error = show_error(self, "Export failed", error.message, error.hint)
            return False
        return True

    def _has_result_or_say(self) -> bool:
        if self.document is None or not self.document.has_result:
            self.last_error = show_error(self, "Nothing to export", "Upscale an image first")
            return False
        return True

    # Batch, closing ------------------------------------------------------------------------------------------------

    def open_batch(self) -> BatchDialog:
        dialog = self.findChild(BatchDialog)
        if dialog is None:
            dialog = BatchDialog(self, self.backend, self.run_panel, self.mask_panel, self.settings)
        dialog.show()
        dialog.raise_()
        return dialog

    def confirm_discard(self) -> bool:
        """True when there is no unsaved work, or the user chose to discard or export it."""
        if self.document is None or not self.document.modified or not self.document.has_result:
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.StandardButton.Save:
            self.export_dialog()
            return not self.document.modified
        return answer == QMessageBox.StandardButton.Discard

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        buttons = (
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        return QMessageBox.question(
            self, "Unsaved work", "The result and your mask edits are not exported. Export them first?", buttons
        )

    def closeEvent(self, a0: QCloseEvent | None) -> None:  # noqa: N802 - Qt's name
        if a0 is None:
            return
        if not self.confirm_discard():
            a0.ignore()
            return
        if self.runner.busy:
            self.runner.cancel()
        self._save_settings()
        a0.accept()

    def _save_settings(self) -> None:
        self.run_panel.remember()
        self.mask_panel.remember(self.settings)
        if self._settings_path is not None:
            try:
                save_settings(self.settings, self._settings_path)
            except OSError as error:
                self.status_bar.showMessage(f"settings not saved: {error}", 5000)
