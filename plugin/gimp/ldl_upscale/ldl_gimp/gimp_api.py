"""GIMP's GObject-introspection modules, imported in one place and only inside GIMP (the pure modules never import
this): the versions must be required before the first import from ``gi.repository``.

Imported by name: ``gi`` has no type stubs, and the modules are typed ``Any`` here once instead of at every use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_gi: Any = import_module("gi")
for _name, _version in (("Gimp", "3.0"), ("GimpUi", "3.0"), ("Gegl", "0.4"), ("Gtk", "3.0")):
    _gi.require_version(_name, _version)

Gimp: Any = import_module("gi.repository.Gimp")
GimpUi: Any = import_module("gi.repository.GimpUi")
Gegl: Any = import_module("gi.repository.Gegl")
GLib: Any = import_module("gi.repository.GLib")
GObject: Any = import_module("gi.repository.GObject")
Gtk: Any = import_module("gi.repository.Gtk")

__all__ = ["GLib", "GObject", "Gegl", "Gimp", "GimpUi", "Gtk"]
