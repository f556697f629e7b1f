"""The interactive dialog of "Upscale with LDL…": GIMP's ``ProcedureDialog`` for the procedure's own arguments, with
the model picked from the backend's catalog and a live time estimate.

GIMP 3.0's choice arguments are fixed when the procedure is registered, before any backend is known, so ``model``
stays a string argument (batch scripts may name any catalog id) and the dialog binds it to a combo box of the catalog
the backend sends (``GimpUi.prop_string_combo_box_new`` over a ``Gtk.ListStore`` of id and label).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ldl_client import ModelInfo

from .arguments import NAMES, read_arguments
from .estimate_line import estimate_line
from .gimp_api import GimpUi, Gtk
from .model_choice import model_rows


def run_dialog(
    procedure: Any,
    config: Any,
    models: Sequence[ModelInfo],
    input_size: tuple[int, int],
    selection: bool,
    learned: Mapping[str, float] | None = None,
) -> bool:
    """Show the dialog; True when the user pressed OK (``config`` then holds the choices). ``learned``: the rates
    this user's finished jobs taught (``ldl_client.learn``), for the estimate."""
    GimpUi.init(procedure.get_name())
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Upscale with LDL")
    rows, chosen = model_rows(models, str(config.get_property("model")))
    config.set_property("model", chosen)
    store = Gtk.ListStore(str, str)
    for row_values in rows:
        store.append(list(row_values))
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
    row.pack_start(Gtk.Label(label="Model"), False, False, 0)
    row.pack_start(GimpUi.prop_string_combo_box_new(config, "model", store, 0, 1), True, True, 0)
    row.show_all()
    dialog.get_content_area().pack_start(row, False, False, 0)

    estimate = dialog.get_label("estimate", "", False, False)

    def refresh(*_: Any) -> None:
        estimate.set_text(estimate_line(read_arguments(config), models, input_size, learned))

    refresh()
    config.connect("notify", refresh)
    dialog.fill_box("advanced-box", ["device", "precision", "tile"])
    dialog.get_label("advanced-title", "Advanced", False, False)
    dialog.fill_expander("advanced", "advanced-title", False, "advanced-box")
    shown = [name for name in NAMES[1:6] if selection or name != "selection-target"]
    dialog.fill([*shown, "estimate", "advanced"])
    accepted = bool(dialog.run())
    dialog.destroy()
    return accepted
