"""A slider for a value in a range, with its number beside it."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from ui.qt import Signal


class ValueSlider(QWidget):
    """A float in [minimum, maximum] on a slider of ``steps`` steps; ``value_changed(float)`` while dragging."""

    value_changed = Signal(float)

    def __init__(
        self, minimum: float, maximum: float, value: float, *, steps: int = 1000, decimals: int = 2, suffix: str = ""
    ) -> None:
        super().__init__()
        self._minimum, self._maximum, self._steps = minimum, maximum, steps
        self._decimals, self._suffix = decimals, suffix
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, steps)
        self._label = QLabel()
        self._label.setMinimumWidth(44)
        self._label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self._label)
        self.set_value(value)
        self.slider.valueChanged.connect(self._moved)

    def value(self) -> float:
        return self._minimum + (self._maximum - self._minimum) * self.slider.value() / self._steps

    def set_value(self, value: float) -> None:
        """Move the slider (emits ``value_changed`` when the position changes)."""
        clamped = min(self._maximum, max(self._minimum, value))
        self.slider.setValue(round((clamped - self._minimum) / (self._maximum - self._minimum) * self._steps))
        self._show()

    def _moved(self, _position: int) -> None:
        self._show()
        self.value_changed.emit(self.value())

    def _show(self) -> None:
        self._label.setText(f"{self.value():.{self._decimals}f}{self._suffix}")
