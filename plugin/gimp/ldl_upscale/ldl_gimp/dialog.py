"""The interactive dialog of "Upscale with LDL…": GIMP's ``ProcedureDialog`` for the procedure's own arguments, with
the model picked from the backend's catalog, "Add model file…", and a live time estimate.

GIMP 3.0's choice arguments are fixed when the procedure is registered, before any backend is known, so ``model``
stays a string argument (batch scripts may name any catalog id) and the dialog binds it to a combo box of the catalog
the backend sends (``GimpUi.prop_string_combo_box_new`` over a ``Gtk.ListStore`` of id and label). Models that cannot
run now are greyed out (``GimpUi.StringComboBox.set_sensitivity``); the estimate line says how to get them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ldl_client import ModelInfo

from .arguments import NAMES, read_arguments
from .estimate_line import estimate_line
from .gimp_api import GimpUi, GLib, Gtk
from .model_choice import model_label, model_rows
from .model_import import MODEL_PATTERNS, ModelImporter, with_model


def run_dialog(
    procedure: Any,
    config: Any,
    models: Sequence[ModelInfo],
    input_size: tuple[int, int],
    selection: bool,
    learned: Mapping[str, float] | None = None,
    import_model: Callable[[Path], ModelInfo] | None = None,
) -> bool:
    """Show the dialog; True when the user pressed OK (``config`` then holds the choices). ``learned``: the rates
    this user's finished jobs taught (``ldl_client.learn``), for the estimate. ``import_model``: adds a model file
    to the backend's catalog (``Client.import_model``; run off GTK's thread); without it, no "Add model file…"."""
    GimpUi.init(procedure.get_name())
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Upscale with LDL")
    catalog = list(models)
    choice = model_rows(catalog, str(config.get_property("model")))
    usable = set(choice.usable)
    config.set_property("model", choice.chosen)
    store = Gtk.ListStore(str, str)
    for row_values in choice.rows:
        store.append(list(row_values))
    combo = GimpUi.prop_string_combo_box_new(config, "model", store, 0, 1)
    if hasattr(combo, "set_sensitivity"):  # GIMP 3.0's StringComboBox; the labels say "not installed" either way
        combo.set_sensitivity(lambda model_id, *_: model_id in usable, None)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
    row.pack_start(Gtk.Label(label="Model"), False, False, 0)
    row.pack_start(combo, True, True, 0)
    estimate = dialog.get_label("estimate", "", False, False)

    def refresh(*_: Any) -> None:
        estimate.set_text(estimate_line(read_arguments(config), catalog, input_size, learned))

    if import_model is not None:
        add = Gtk.Button(label="Add model file…")
        add.set_tooltip_text("Import a .pth, .safetensors or ncnn .param (with its .bin beside it) model")

        def added(model: ModelInfo) -> None:
            catalog[:] = with_model(catalog, model)
            if model.usable:
                usable.add(model.name)
            rows = [existing for existing in store if existing[0] == model.name]
            if rows:
                rows[0][1] = model_label(model)  # a listed model, now installed
            else:
                store.append([model.name, model_label(model)])
            add.set_sensitive(True)
            config.set_property("model", model.name)
            refresh()

        def failed(message: str, hint: str) -> None:
            add.set_sensitive(True)
            _show_error(dialog, message, hint)

        def schedule(call: Callable[[], object]) -> None:
            def once() -> bool:
                call()
                return False  # run once, on GTK's thread

            GLib.idle_add(once)

        importer = ModelImporter(import_model, schedule, added, failed)

        def pick(_: Any) -> None:
            path = _choose_model_file(dialog)
            if path is not None and importer.start(path):
                add.set_sensitive(False)
                estimate.set_text(f"Adding {path.name} to LDL Studio…")

        add.connect("clicked", pick)
        row.pack_start(add, False, False, 0)
    row.show_all()
    dialog.get_content_area().pack_start(row, False, False, 0)

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


def _choose_model_file(parent: Any) -> Path | None:
    chooser = Gtk.FileChooserDialog(title="Add model file", transient_for=parent, action=Gtk.FileChooserAction.OPEN)
    chooser.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_Add", Gtk.ResponseType.ACCEPT)
    models = Gtk.FileFilter()
    models.set_name("Models (.pth, .safetensors, ncnn .param)")
    for pattern in MODEL_PATTERNS:
        models.add_pattern(pattern)
    chooser.add_filter(models)
    try:
        if chooser.run() != Gtk.ResponseType.ACCEPT:
            return None
        name = chooser.get_filename()
        return Path(name) if name else None
    finally:
        chooser.destroy()


def _show_error(parent: Any, message: str, hint: str) -> None:
    box = Gtk.MessageDialog(
        transient_for=parent,
        modal=True,
        message_type=Gtk.MessageType.WARNING,
        buttons=Gtk.ButtonsType.OK,
        text=message,
    )
    if hint:
        box.format_secondary_text(hint)
    box.run()
    box.destroy()
