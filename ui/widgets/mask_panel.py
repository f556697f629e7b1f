"""The mask panel: threshold and softness, the brush, whole-mask edits, and how the mask and the map are shown."""

from __future__ import annotations

from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ui.qt import Signal
from ui.settings import AppSettings
from ui.state.display import MaskStyle
from ui.state.mask_editor import Brush, BrushMode, Ramp
from ui.widgets.legend import MapLegend
from ui.widgets.sliders import ValueSlider


class MaskPanel(QWidget):
    """Widgets only; the main window connects their signals to the document."""

    ramp_changed = Signal(object)  # Ramp
    brush_changed = Signal(object)  # Brush
    overlay_changed = Signal(bool, float)  # shown, opacity
    mask_style_changed = Signal(object)  # MaskStyle

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self.threshold = ValueSlider(0.0, 1.0, settings.threshold)
        self.threshold.setToolTip("Keep generated detail where the artifact map is below this value")
        self.softness = ValueSlider(0.0, 1.0, settings.softness)
        self.softness.setToolTip("How gradually detail fades out around the threshold")
        self.keep = QRadioButton("Keep detail")
        self.remove = QRadioButton("Remove detail")
        self.erase = QRadioButton("Eraser")
        self.modes = QButtonGroup(self)
        for button, mode in (
            (self.keep, BrushMode.KEEP),
            (self.remove, BrushMode.REMOVE),
            (self.erase, BrushMode.ERASE),
        ):
            self.modes.addButton(button)
            button.setProperty("mode", mode.value)
        self.remove.setChecked(True)  # the usual job: paint away an artifact the threshold missed
        self.brush_size = ValueSlider(1.0, 400.0, settings.brush_radius, steps=399, decimals=0, suffix=" px")
        self.hardness = ValueSlider(0.0, 1.0, settings.brush_hardness)
        self.opacity = ValueSlider(0.0, 1.0, settings.brush_opacity)
        self.invert = QPushButton("Invert")
        self.clear = QPushButton("Clear strokes")
        self.undo = QPushButton("Undo")
        self.redo = QPushButton("Redo")
        self.style_choice = QComboBox()
        for style, text in (
            (MaskStyle.TINT, "Tint removed detail"),
            (MaskStyle.OUTLINE, "Outline"),
            (MaskStyle.HIDDEN, "Hidden"),
        ):
            self.style_choice.addItem(text, style.value)
        self.style_choice.setCurrentIndex(max(0, self.style_choice.findData(settings.mask_style)))
        self.overlay = QCheckBox("Show artifact map")
        self.overlay_opacity = ValueSlider(0.0, 1.0, settings.overlay_opacity)
        self.legend = MapLegend()
        self._build()
        for slider in (self.threshold, self.softness):
            slider.value_changed.connect(lambda _value: self.ramp_changed.emit(self.ramp()))
        for slider in (self.brush_size, self.hardness, self.opacity):
            slider.value_changed.connect(lambda _value: self.brush_changed.emit(self.brush()))
        self.modes.buttonToggled.connect(lambda _button, on: on and self.brush_changed.emit(self.brush()))
        self.overlay.toggled.connect(self._emit_overlay)
        self.overlay_opacity.value_changed.connect(self._emit_overlay)
        self.style_choice.currentIndexChanged.connect(lambda _i: self.mask_style_changed.emit(self.mask_style()))

    def _build(self) -> None:
        ramp = QGroupBox("Artifact threshold")
        ramp_form = QFormLayout(ramp)
        ramp_form.addRow("Threshold", self.threshold)
        ramp_form.addRow("Softness", self.softness)
        brush = QGroupBox("Brush")
        brush_layout = QVBoxLayout(brush)
        for button in (self.keep, self.remove, self.erase):
            brush_layout.addWidget(button)
        brush_form = QFormLayout()
        brush_form.addRow("Size", self.brush_size)
        brush_form.addRow("Hardness", self.hardness)
        brush_form.addRow("Opacity", self.opacity)
        brush_layout.addLayout(brush_form)
        edits = QGridLayout()
        edits.addWidget(self.undo, 0, 0)
        edits.addWidget(self.redo, 0, 1)
        edits.addWidget(self.invert, 1, 0)
        edits.addWidget(self.clear, 1, 1)
        brush_layout.addLayout(edits)
        shown = QGroupBox("Display")
        shown_form = QFormLayout(shown)
        shown_form.addRow("Mask", self.style_choice)
        shown_form.addRow(self.overlay)
        shown_form.addRow("Opacity", self.overlay_opacity)
        shown_form.addRow(self.legend)
        layout = QVBoxLayout(self)
        layout.addWidget(ramp)
        layout.addWidget(brush)
        layout.addWidget(shown)
        layout.addStretch(1)

    def ramp(self) -> Ramp:
        return Ramp(self.threshold.value(), self.softness.value())

    def brush(self) -> Brush:
        checked = self.modes.checkedButton()
        mode = BrushMode(checked.property("mode")) if checked is not None else BrushMode.REMOVE
        return Brush(self.brush_size.value(), self.hardness.value(), self.opacity.value(), mode)

    def mask_style(self) -> MaskStyle:
        return MaskStyle(self.style_choice.currentData())

    def set_history(self, can_undo: bool, can_redo: bool) -> None:
        self.undo.setEnabled(can_undo)
        self.redo.setEnabled(can_redo)

    def remember(self, settings: AppSettings) -> None:
        ramp, brush = self.ramp(), self.brush()
        settings.threshold, settings.softness = ramp.threshold, ramp.softness
        settings.brush_radius, settings.brush_hardness, settings.brush_opacity = (
            brush.radius,
            brush.hardness,
            brush.opacity,
        )
        settings.mask_style = self.mask_style().value
        settings.overlay_opacity = self.overlay_opacity.value()

    def _emit_overlay(self, *_args: object) -> None:
        self.overlay_changed.emit(self.overlay.isChecked(), self.overlay_opacity.value())
