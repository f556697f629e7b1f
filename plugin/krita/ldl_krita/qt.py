"""The plugin's only Qt import: Krita 5 embeds PyQt5, Krita 6 PyQt6.

Whichever PyQt the host has already loaded is the one to use (loading the other would start a second Qt inside
Krita); outside Krita (tests) PyQt5 is preferred when both are installed. The code written against these names uses
the scoped enum spellings (``Qt.WindowModality.WindowModal``) and ``exec()``, which both bindings accept.
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING


def _binding() -> str:
    for name in ("PyQt6", "PyQt5"):
        if f"{name}.QtCore" in sys.modules:
            return name
    return "PyQt5" if find_spec("PyQt5") is not None else "PyQt6"


if TYPE_CHECKING:
    from PyQt6 import QtCore, QtGui, QtWidgets
else:
    _name = _binding()
    QtCore = import_module(f"{_name}.QtCore")
    QtGui = import_module(f"{_name}.QtGui")
    QtWidgets = import_module(f"{_name}.QtWidgets")

BINDING: str = QtCore.__name__.split(".")[0]
Qt = QtCore.Qt
QTimer = QtCore.QTimer
QApplication = QtWidgets.QApplication
QButtonGroup = QtWidgets.QButtonGroup
QCheckBox = QtWidgets.QCheckBox
QComboBox = QtWidgets.QComboBox
QDialog = QtWidgets.QDialog
QDialogButtonBox = QtWidgets.QDialogButtonBox
QDoubleSpinBox = QtWidgets.QDoubleSpinBox
QFileDialog = QtWidgets.QFileDialog
QFormLayout = QtWidgets.QFormLayout
QGroupBox = QtWidgets.QGroupBox
QLabel = QtWidgets.QLabel
QMessageBox = QtWidgets.QMessageBox
QProgressDialog = QtWidgets.QProgressDialog
QPushButton = QtWidgets.QPushButton
QRadioButton = QtWidgets.QRadioButton
QSpinBox = QtWidgets.QSpinBox
QStandardItemModel = QtGui.QStandardItemModel
QVBoxLayout = QtWidgets.QVBoxLayout
QWidget = QtWidgets.QWidget

__all__ = [
    "BINDING",
    "QApplication",
    "QButtonGroup",
    "QCheckBox",
    "QComboBox",
    "QDialog",
    "QDialogButtonBox",
    "QDoubleSpinBox",
    "QFileDialog",
    "QFormLayout",
    "QGroupBox",
    "QLabel",
    "QMessageBox",
    "QProgressDialog",
    "QPushButton",
    "QRadioButton",
    "QSpinBox",
    "QStandardItemModel",
    "QTimer",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "QtCore",
    "QtGui",
    "QtWidgets",
]
