"""GIMP's modules for the in-GIMP tests, and the few things the tests do with them: open the photo in a precision,
run a procedure the way a batch script or another plug-in does, and read pixels through Gegl as floats."""

from __future__ import annotations

import array
from dataclasses import dataclass
from importlib import import_module
from typing import Any

_gi: Any = import_module("gi")
_gi.require_version("Gimp", "3.0")
_gi.require_version("Gegl", "0.4")
Gimp: Any = import_module("gi.repository.Gimp")
Gegl: Any = import_module("gi.repository.Gegl")
Gio: Any = import_module("gi.repository.Gio")

UPSCALE = "ldl-upscale"
BLEND = "ldl-blend-selection"


@dataclass(frozen=True)
class Outcome:
    """A procedure's return values: ``status`` (a ``Gimp.PDBStatusType``) and the rest, in order."""

    status: Any
    values: list[Any]

    @property
    def ok(self) -> bool:
        return self.status == Gimp.PDBStatusType.SUCCESS

    @property
    def error(self) -> str:
        """The error message GIMP carries as the second value of a failed run."""
        return "" if self.ok or not self.values else str(self.values[0])


def open_photo(path: str, precision: str | None = None, *, gray: bool = False) -> Any:
    """The photo as a new image, converted to ``Gimp.Precision.<precision>`` (and to grayscale) when asked."""
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    if gray:
        assert image.convert_grayscale()
    wanted = getattr(Gimp.Precision, precision) if precision is not None else None
    if wanted is not None and image.get_precision() != wanted:  # converting to the same precision fails
        assert image.convert_precision(wanted), precision
        assert image.get_precision() == wanted
    image.clean_all()
    return image


def run(name: str, image: Any, drawables: list[Any], **arguments: Any) -> Outcome:
    """Run procedure ``name`` non-interactively; ``arguments`` by their PDB names with ``_`` for ``-``."""
    procedure = Gimp.get_pdb().lookup_procedure(name)
    assert procedure is not None, f"{name} is not in the PDB"
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", drawables)
    for key, value in arguments.items():
        config.set_property(key.replace("_", "-"), value)
    result = procedure.run(config)
    return Outcome(result.index(0), [result.index(i) for i in range(1, result.length())])


def floats(drawable: Any, babl_format: str, rect: tuple[int, int, int, int] | None = None) -> array.array:
    """The drawable's pixels (``rect`` in its own coordinates, default all) read as ``babl_format``, a float one."""
    x, y, width, height = rect or (0, 0, drawable.get_width(), drawable.get_height())
    data = drawable.get_buffer().get(Gegl.Rectangle.new(x, y, width, height), 1.0, babl_format, Gegl.AbyssPolicy.NONE)
    return array.array("f", bytes(data))


def layer_names(image: Any) -> list[tuple[str, list[str]]]:
    """Each top-level layer's name with its children's names (top first): the stack as the Layers dialog shows it."""
    return [
        (layer.get_name(), [child.get_name() for child in layer.get_children()] if layer.is_group_layer() else [])
        for layer in image.get_layers()
    ]


def child(group: Any, name: str) -> Any:
    found = [layer for layer in group.get_children() if layer.get_name() == name]
    assert len(found) == 1, f"{group.get_name()} holds {[c.get_name() for c in group.get_children()]}, not {name!r}"
    return found[0]
