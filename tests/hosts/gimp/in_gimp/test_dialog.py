"""The interactive dialog, built the way an interactive run builds it, against the real backend's catalog: the model
list, a model that runs now preselected (the default one when it does), "Add model file…", the live estimate, and the
choice reaching the procedure's config.

Needs a display (GimpUi): skipped in ``gimp-console`` batch runs; runs in the GUI ``gimp-3.0`` under Xvfb."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .gimp import UPSCALE, Gimp

if TYPE_CHECKING:
    from ldl_client import Client

pytestmark = pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="the dialog needs a display (GIMP's GUI)")


def widgets(widget: Any) -> Iterator[Any]:
    yield widget
    if hasattr(widget, "get_children"):
        for child in widget.get_children():
            yield from widgets(child)


def plugin_dir() -> Path:
    folder = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "GIMP" / "3.0" / "plug-ins"
    return folder / "ldl_upscale"


def test_the_dialog_offers_the_catalog_and_estimates(client: Client, compact: str, host_config: dict[str, Any]) -> None:
    sys.path.insert(0, str(plugin_dir()))
    from ldl_gimp.dialog import run_dialog  # the installed plug-in's
    from ldl_gimp.gimp_api import GimpUi, GLib, Gtk

    models = client.models()
    usable = sorted(model.name for model in models if model.usable)
    other = next(model.name for model in models if model.name != compact)
    procedure = Gimp.get_pdb().lookup_procedure(UPSCALE)
    config = procedure.create_config()
    seen: dict[str, Any] = {}

    def operate() -> bool:
        dialog = next(window for window in Gtk.Window.list_toplevels() if isinstance(window, GimpUi.ProcedureDialog))
        combo = next(widget for widget in widgets(dialog) if isinstance(widget, GimpUi.StringComboBox))
        seen["shown"] = combo.get_active()
        seen["rows"] = [row[0] for row in combo.get_model()]
        seen["buttons"] = [w.get_label() for w in widgets(dialog) if isinstance(w, Gtk.Button)]
        combo.set_active(other)
        seen["estimates"] = [
            w.get_text() for w in widgets(dialog) if isinstance(w, Gtk.Label) and " px, " in w.get_text()
        ]
        shot = Path(host_config["out_dir"]) / "gimp_dialog.png"
        subprocess.run(["import", "-window", "root", str(shot)], check=False, timeout=30)
        dialog.response(Gtk.ResponseType.OK)
        return False

    GLib.timeout_add(1500, operate)
    assert run_dialog(procedure, config, models, (64, 48), selection=True, import_model=client.import_model)
    assert seen["shown"] in usable, f"{seen['shown']} cannot run; usable: {usable}"
    assert "Add model file…" in seen["buttons"]
    assert set(seen["rows"]) == {model.name for model in models}
    assert config.get_property("model") == other
    assert seen["estimates"] and seen["estimates"][0].startswith("256 × 192 px, "), seen
