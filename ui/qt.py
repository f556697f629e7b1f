"""The Qt names the app uses that qtpy exports in a way pyright calls private; import them from here."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # qtpy re-exports these from the binding without declaring them; the checker reads PyQt6's own stubs.
    from PyQt6.QtCore import pyqtSignal as Signal
    from PyQt6.QtCore import pyqtSlot as Slot
else:
    from qtpy.QtCore import Signal, Slot

__all__ = ["Signal", "Slot"]
