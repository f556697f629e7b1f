"""The run panel: what to upscale with, an estimate of the time, progress through the whole job with ETA, cancel."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QStandardItemModel
from qtpy.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ldl_client import (
    DEFAULT_REFERENCE,
    JobInfo,
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
from ui.qt import Signal
from ui.settings import AppSettings
from ui.widgets.wrapping_label import WrappingLabel

REFERENCES = (
    ("lanczos", "Lanczos — good map, no extra pass"),
    ("tta:2", "TTA ×2 — 1 more pass"),
    ("tta:4", "TTA ×4 — 3 more passes"),
    ("tta:8", "TTA ×8 — sharpest blend (7 more passes)"),
)


def model_note(model: ModelInfo) -> str:
    # What the catalog says of the model (its character and speed, and whether it runs now: the backend's note);
    # the app keeps no table of architectures.
    text = f"×{model.scale} · {model.description or model.architecture}"
    availability = availability_text(model)
    return f"{text} · {availability}" if availability else text


class RunPanel(QWidget):
    """Emits ``run_requested`` and ``cancel_requested``; ``options()`` is what the user chose."""

    run_requested = Signal()
    cancel_requested = Signal()
    add_model_requested = Signal()

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self._settings = settings
        self._models: list[ModelInfo] = []
        self._output_pixels = 0
        self.model = QComboBox()
        self.model.setObjectName("model")
        self.add_model = QPushButton("Add model file…")
        self.add_model.setToolTip("Import a .pth, .safetensors or ncnn .param (with its .bin beside it) model")
        self.scale = QSpinBox()
        self.scale.setRange(0, 8)
        self.scale.setSpecialValueText("model's own")
        self.scale.setValue(settings.scale)
        self.reference = QComboBox()
        for value, text in REFERENCES:
            self.reference.addItem(text, value)
        self.device = QComboBox()
        self.precision = QComboBox()
        for value in ("auto", "fp32", "bf16", "fp16"):
            self.precision.addItem(value, value)
        self.tile = QSpinBox()
        self.tile.setRange(0, 4096)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("auto")
        self.tile.setValue(settings.tile)
        self.estimate = WrappingLabel()
        self.note = WrappingLabel()
        self.run_button = QPushButton("Upscale")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress_label = QLabel()
        self._build()
        self.set_devices(["cpu"])
        self._select(self.reference, settings.reference)
        self._select(self.precision, settings.precision)
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.add_model.clicked.connect(self.add_model_requested)
        for combo in (self.model, self.reference):
            combo.currentIndexChanged.connect(self._update_estimate)
        self.scale.valueChanged.connect(self._update_estimate)

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("", self.note)
        form.addRow("", self.add_model)
        form.addRow("Scale", self.scale)
        form.addRow("Reference", self.reference)
        advanced = QGroupBox("Advanced")
        advanced.setCheckable(True)
        advanced.setChecked(False)
        self._advanced = QWidget()
        QVBoxLayout(advanced).addWidget(self._advanced)
        advanced_form = QFormLayout(self._advanced)
        advanced_form.setContentsMargins(0, 0, 0, 0)
        advanced_form.addRow("Device", self.device)
        advanced_form.addRow("Precision", self.precision)
        advanced_form.addRow("Tile", self.tile)
        # Collapsed unless asked for: most users never need these.
        self._show_advanced(False)
        advanced.toggled.connect(self._show_advanced)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(advanced)
        layout.addWidget(self.estimate)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)

    def _show_advanced(self, shown: bool) -> None:
        self._advanced.setVisible(shown)

    # Choices ----------------------------------------------------------------------------------------------------

    def set_models(self, models: list[ModelInfo], select: str | None = None) -> None:
        """Fill the model list from the backend's catalog (detail generators; those that can run now first, the
        default model first among them; the others greyed out with how to get them) and select ``select``, else
        the current or remembered choice when it can run, else the default model."""
        chosen = select or self.model.currentData() or self._settings.model
        self._models = sorted([m for m in models if m.role != "reference"] or models, key=model_order)
        self.model.blockSignals(True)
        self.model.clear()
        items = self.model.model()
        for index, model in enumerate(self._models):
            self.model.addItem(model.name, model.name)
            tip = f"{model.architecture} ×{model.scale}: {model.description}"
            if availability_text(model):
                tip += f"\n{availability_text(model)}"
            self.model.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
            if not model.usable and isinstance(items, QStandardItemModel):
                item = items.item(index)
                if item is not None:
                    item.setEnabled(False)
        self.model.blockSignals(False)
        preferred = preferred_model(self._models, str(chosen))
        if preferred is not None:
            self._select(self.model, preferred.name)
        # Fidelity models can serve as the reference too.
        for model in models:
            if model.role == "reference" and model.usable and self.reference.findData(f"model:{model.name}") < 0:
                self.reference.addItem(f"{model.name} — faithful model (2 passes)", f"model:{model.name}")
        self._select(self.reference, self._settings.reference)
        self._update_estimate()

    def set_devices(self, devices: list[str]) -> None:
        self.device.clear()
        for value in ["auto", *devices]:
            self.device.addItem(value, value)
        self._select(self.device, self._settings.device)

    def set_output_pixels(self, input_width: int, input_height: int) -> None:
        """The input's size, for the estimate."""
        self._output_pixels = input_width * input_height
        self._update_estimate()

    def current_model(self) -> ModelInfo | None:
        name = self.model.currentData()
        return next((m for m in self._models if m.name == name), None)

    def options(self, threshold: float, softness: float) -> SubmitOptions:
        """The job options; raises ``ValueError`` when no model is available yet."""
        model = self.current_model()
        if model is None:
            raise ValueError("no model to run: the backend has not listed its models yet")
        if not model.usable:
            raise ValueError(f"model {model.name} is not installed: {model.note or 'see `ldl models list`'}")
        precision = str(self.precision.currentData() or "auto")
        return SubmitOptions(
            model=model.name,
            scale=self.scale.value() or None,
            reference=self.reference_source(),
            threshold=threshold,
            softness=softness,
            device=str(self.device.currentData() or "auto"),
            precision=None if precision == "auto" else Precision(precision),
            tile=self.tile.value() or None,
        )

    def reference_source(self) -> ReferenceSource:
        """The chosen reference (the combo box holds only valid choices)."""
        return ReferenceSource.parse(str(self.reference.currentData() or DEFAULT_REFERENCE))

    def remember(self) -> None:
        """Write the choices into the settings."""
        self._settings.model = str(self.model.currentData() or self._settings.model)
        self._settings.scale = self.scale.value()
        self._settings.reference = str(self.reference.currentData())
        self._settings.device = str(self.device.currentData() or "auto")
        self._settings.precision = str(self.precision.currentData() or "auto")
        self._settings.tile = self.tile.value()

    # Progress ---------------------------------------------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first tile count arrives
            self.progress_label.setText("sending the image…")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("")

    def show_progress(self, job: JobInfo) -> None:
        progress = job.progress
        if progress.total > 0:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
            self.progress.setFormat(f"{progress.fraction:.0%}")
        eta = "" if progress.eta_seconds is None else f" · {describe_seconds(progress.eta_seconds)} left"
        self.progress_label.setText(f"{job.state.value}{': ' + progress.stage if progress.stage else ''}{eta}")

    def show_outcome(self, text: str) -> None:
        self.progress_label.setText(text)

    def _update_estimate(self) -> None:
        model = self.current_model()
        self.note.setText("" if model is None else model_note(model))
        if model is None or self._output_pixels == 0:
            self.estimate.setText("")
            return
        scale = self.scale.value() or model.scale
        seconds = estimate_seconds(
            model,
            str(self.device.currentData() or "auto"),
            self.reference_source(),
            self._output_pixels * scale * scale,
            self._settings.seconds_per_megapixel,
        )
        self.estimate.setText(f"Estimated time: {describe_seconds(seconds)}")

    @staticmethod
    def _select(combo: QComboBox, value: str) -> None:
        index = combo.findData(value)
        if index >= 0:
            combo.setCurrentIndex(index)
