"""The "Upscale with LDL…" dialog: model, factor, reference, where the result goes, advanced options, a time
estimate. It only builds an ``UpscaleRequest``; nothing here talks to the backend or to the document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .client_import import (
    DEFAULT_REFERENCE,
    MAX_TILE,
    MIN_TILE,
    PRECISIONS,
    ModelInfo,
    Precision,
    ReferenceSource,
    SubmitOptions,
    describe_seconds,
    estimate_seconds,
)
from .qt import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QRadioButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from .upscale import Target, UpscaleRequest

REFERENCES = (
    ("TTA ×8: most faithful (8 model passes)", "tta:8"),
    ("TTA ×4", "tta:4"),
    ("TTA ×2", "tta:2"),
    ("Lanczos: fastest (no extra pass)", "lanczos"),
)
TARGETS: tuple[tuple[str, Target], ...] = (
    ("Scale the whole image (the active layer with LDL, the others by Krita)", "document"),
    ("Upscale the selection into a new image", "new_document"),
    ("Upscale the selection into a new layer group here", "new_layer"),
)
_AUTO_TILE = MIN_TILE - 1


class UpscaleDialog(QDialog):
    """``models``: the backend's catalog; ``devices``: ``Health.devices``; ``image_size``: the pixels to upscale
    (width, height); ``rates``: learned seconds per megapixel (see ``estimate``); ``last``: the previous request."""

    def __init__(
        self,
        models: Sequence[ModelInfo],
        devices: Sequence[str],
        image_size: tuple[int, int],
        has_selection: bool,
        rates: Mapping[str, float],
        last: UpscaleRequest | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Upscale with LDL")
        self._models = {model.name: model for model in models}
        self._image_size = image_size
        self._rates = rates

        self.model = QComboBox()
        for model in sorted(models, key=lambda m: (not m.installed, m.name)):
            suffix = "" if model.installed else " (not installed yet)"
            self.model.addItem(f"{model.name} ×{model.scale}{suffix}", model.name)
            self.model.setItemData(self.model.count() - 1, model.description, Qt.ItemDataRole.ToolTipRole)
        self.scale = QSpinBox()
        self.scale.setRange(1, 8)
        self.scale.setPrefix("×")
        self.reference = QComboBox()
        for label, value in REFERENCES:
            self.reference.addItem(label, value)
        for model in models:
            if model.role == "reference" and model.installed:
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
        """The request the dialog shows (raises ``ValueError`` only for a catalog with an invalid model id)."""
        model = self._models[str(self.model.currentData())]
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

    def _restore(self, last: UpscaleRequest | None) -> None:
        default = next((m.name for m in self._models.values() if m.installed), None)
        options = last.options if last is not None else None
        _select(self.model, options.model if options is not None and options.model in self._models else default)
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

    def _update_estimate(self) -> None:
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
