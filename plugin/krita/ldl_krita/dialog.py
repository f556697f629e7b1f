"""The "Upscale with LDL…" dialog: model, factor, reference, where the result goes, advanced options, a time
estimate. It builds an ``UpscaleRequest``; the only backend call it makes is "Add model file…", through the callable
the extension gives it, off the GUI thread. It never touches the document."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .client_import import (
    DEFAULT_REFERENCE,
    MAX_TILE,
    MIN_TILE,
    PRECISIONS,
    ClientError,
    ModelInfo,
    Precision,
    ReferenceSource,
    SubmitOptions,
    availability_text,
    describe_seconds,
    estimate_seconds,
    model_order,
    preferred_model,
)
from .errors import Cancelled, PluginError
from .qt import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStandardItemModel,
    Qt,
    QVBoxLayout,
    QWidget,
)
from .task import ProgressRunner
from .upscale import Target, UpscaleRequest

REFERENCES = (
    ("Lanczos: good map, no extra pass", "lanczos"),
    ("TTA ×2: 1 more model pass", "tta:2"),
    ("TTA ×4: 3 more model passes", "tta:4"),
    ("TTA ×8: sharpest blend (7 more model passes)", "tta:8"),
)
TARGETS: tuple[tuple[str, Target], ...] = (
    ("Scale the whole image (the active layer with LDL, the others by Krita)", "document"),
    ("Upscale the selection into a new image", "new_document"),
    ("Upscale the selection into a new layer group here", "new_layer"),
)
_AUTO_TILE = MIN_TILE - 1
MODEL_FILTER = "Models (*.pth *.pt *.ckpt *.safetensors *.param)"
ImportModel = Callable[[Path], ModelInfo]


class UpscaleDialog(QDialog):
    """``models``: the backend's catalog; ``devices``: ``Health.devices``; ``image_size``: the pixels to upscale
    (width, height); ``rates``: learned seconds per megapixel (see ``estimate``); ``last``: the previous request;
    ``import_model``: adds a model file to the backend's catalog and returns its entry (called off the GUI thread;
    without it there is no "Add model file…" button)."""

    def __init__(
        self,
        models: Sequence[ModelInfo],
        devices: Sequence[str],
        image_size: tuple[int, int],
        has_selection: bool,
        rates: Mapping[str, float],
        last: UpscaleRequest | None = None,
        parent: QWidget | None = None,
        import_model: ImportModel | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Upscale with LDL")
        self._models = {model.name: model for model in models}
        self._image_size = image_size
        self._rates = rates
        self._import_model = import_model
        self.importing: ProgressRunner[ModelInfo] | None = None
        self.import_error: QMessageBox | None = None

        self.model = QComboBox()
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self._fill_models()
        self.add_model = QPushButton("Add model file…")
        self.add_model.setToolTip("Import a .pth, .safetensors or ncnn .param (with its .bin beside it) model")
        self.add_model.setVisible(import_model is not None)
        self.add_model.clicked.connect(self._add_model_dialog)
        self.scale = QSpinBox()
        self.scale.setRange(1, 8)
        self.scale.setPrefix("×")
        self.reference = QComboBox()
        for label, value in REFERENCES:
            self.reference.addItem(label, value)
        for model in models:
            if model.role == "reference" and model.usable:
                self.reference.addItem(f"Model {model.name}", f"model:{model.name}")

        self.targets = QButtonGroup(self)
        target_box = QGroupBox("Result")
        target_layout = QVBoxLayout(target_box)
        for index, (label, value) in enumerate(TARGETS):
            button = QRadioButton(label)
            button.setEnabled(value == "document" or has_selection)
            button.setProperty("target", value)
            self.targets.addButton(button, index)
            target_layout.addWidget(button)
        if not has_selection:
            target_layout.addWidget(QLabel("Select a region to upscale only that part."))

        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        self.device = QComboBox()
        for device in ("auto", *devices):
            self.device.addItem(device, device)
        self.precision = QComboBox()
        for precision in PRECISIONS:
            self.precision.addItem(precision, precision)
        self.tile = QSpinBox()
        self.tile.setRange(_AUTO_TILE, MAX_TILE)
        self.tile.setSpecialValueText("auto")
        self.tile.setSuffix(" px")
        advanced_layout = QFormLayout(self.advanced)
        advanced_layout.addRow("Device", self.device)
        advanced_layout.addRow("Precision", self.precision)
        advanced_layout.addRow("Tile size", self.tile)

        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("", self.model_note)
        form.addRow("", self.add_model)
        form.addRow("Factor", self.scale)
        form.addRow("Reference", self.reference)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(target_box)
        layout.addWidget(self.advanced)
        layout.addWidget(self.estimate)
        layout.addWidget(buttons)

        self._restore(last)
        self.model.currentIndexChanged.connect(self._model_changed)
        for combo in (self.reference, self.device):
            combo.currentIndexChanged.connect(self._update_estimate)
        self.scale.valueChanged.connect(self._update_estimate)
        self.advanced.toggled.connect(self._update_estimate)
        self._update_estimate()

    def request(self) -> UpscaleRequest:
        """The request the dialog shows (raises ``ValueError`` only for a catalog with an invalid model id, and
        ``PluginError`` for a model that cannot run now)."""
        model = self._models[str(self.model.currentData())]
        if not model.usable:
            raise PluginError(f"the model {model.name} is not installed", model.note or "see `ldl models list`")
        advanced = self.advanced.isChecked()
        tile = self.tile.value()
        precision = str(self.precision.currentData()) if advanced else "auto"
        options = SubmitOptions(
            model=model.name,
            scale=None if self.scale.value() == model.scale else self.scale.value(),
            reference=self._reference(),
            device=str(self.device.currentData()) if advanced else "auto",
            precision=None if precision == "auto" else Precision(precision),
            tile=tile if advanced and tile != _AUTO_TILE else None,
        )
        return UpscaleRequest(options, self._target())

    def _reference(self) -> ReferenceSource:
        return ReferenceSource.parse(str(self.reference.currentData() or DEFAULT_REFERENCE))

    def _target(self) -> Target:
        button = self.targets.checkedButton()
        value = button.property("target") if button is not None else None
        for _, target in TARGETS:
            if target == value:
                return target
        return "document"

    def _fill_models(self) -> None:
        """The catalog, models that run now first (the default model first); the others greyed out, with how to get
        them in the tooltip."""
        self.model.blockSignals(True)
        self.model.clear()
        items = self.model.model()
        for index, model in enumerate(sorted(self._models.values(), key=model_order)):
            suffix = "" if model.usable else " (not installed)"
            self.model.addItem(f"{model.name} ×{model.scale}{suffix}", model.name)
            tip = "\n".join(text for text in (model.description, availability_text(model)) if text)
            self.model.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
            item = items.item(index) if isinstance(items, QStandardItemModel) else None
            if item is not None and not model.usable:
                item.setEnabled(False)
        self.model.blockSignals(False)

    def add_model_file(self, path: Path) -> None:
        """Import ``path`` through the backend (a worker thread, with a progress dialog); the new model is then
        added and selected, or the backend's message and hint are shown."""
        importer = self._import_model
        if importer is None or self.importing is not None:
            return

        def work(cancel: Any, report: Any) -> ModelInfo:
            return importer(path)

        def done(model: ModelInfo) -> None:
            self.importing = None
            self._models[model.name] = model
            self._fill_models()
            _select(self.model, model.name)
            self._model_changed()

        def failed(error: BaseException) -> None:
            self.importing = None
            if isinstance(error, Cancelled):
                return
            message, hint = (
                (error.message, error.hint)
                if isinstance(error, (ClientError, PluginError))
                else (
                    f"{type(error).__name__}: {error}",
                    "this is a bug in the LDL Studio plugin; please report it",
                )
            )
            box = QMessageBox(QMessageBox.Icon.Warning, "LDL Studio", message, QMessageBox.StandardButton.Ok, self)
            box.setInformativeText(hint)
            self.import_error = box
            box.open()

        self.importing = ProgressRunner(
            self, "Add model file", work, done, failed, lambda *_: f"Adding {path.name} to LDL Studio…", True
        )
        self.importing.start()

    def _add_model_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Add model file", "", MODEL_FILTER)
        if name:
            self.add_model_file(Path(name))

    def _restore(self, last: UpscaleRequest | None) -> None:
        options = last.options if last is not None else None
        preferred = preferred_model(list(self._models.values()), options.model if options is not None else "")
        _select(self.model, preferred.name if preferred is not None else None)
        model = self._models.get(str(self.model.currentData()))
        if options is not None and options.scale:
            self.scale.setValue(int(options.scale))
        else:
            self.scale.setValue(model.scale if model else 4)
        _select(self.reference, str(options.reference if options is not None else DEFAULT_REFERENCE))
        wanted = last.target if last is not None else "document"
        for button in self.targets.buttons():
            if button.property("target") == wanted and button.isEnabled():
                button.setChecked(True)
        if self.targets.checkedButton() is None:
            self.targets.buttons()[0].setChecked(True)
        if options is not None and (options.device, options.precision, options.tile) != ("auto", None, None):
            self.advanced.setChecked(True)
            _select(self.device, options.device)
            _select(self.precision, "auto" if options.precision is None else options.precision.value)
            self.tile.setValue(options.tile or _AUTO_TILE)

    def _model_changed(self) -> None:
        model = self._models.get(str(self.model.currentData()))
        if model is not None:
            self.scale.setValue(model.scale)
        self._update_estimate()

    def _show_note(self) -> None:
        model = self._models.get(str(self.model.currentData()))
        text = availability_text(model) if model is not None else ""
        self.model_note.setText(text)
        self.model_note.setVisible(bool(text))

    def _update_estimate(self) -> None:
        self._show_note()
        model = self._models.get(str(self.model.currentData()))
        if model is None:
            self.estimate.setText("")
            return
        width, height = self._image_size
        factor = self.scale.value()
        device = str(self.device.currentData()) if self.advanced.isChecked() else "auto"
        seconds = estimate_seconds(model, device, self._reference(), width * height * factor * factor, self._rates)
        self.estimate.setText(
            f"{width}×{height} → {width * factor}×{height * factor} px. Estimated time: {describe_seconds(seconds)} "
            "(a rough guess until a few jobs have run on this machine)."
        )


def _select(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
