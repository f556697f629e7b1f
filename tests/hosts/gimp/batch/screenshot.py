"""Run by the GUI GIMP 3 (``gimp-3.0 --batch-interpreter=python-fu-eval`` under Xvfb), started by
tests/plugin/test_gimp_host.py: upscale the photo with the installed plug-in's ``ldl-upscale`` procedure as a batch
script would, show the result in a window with the LDL group open and the detail layer's mask chosen in the Layers
dock, and take a screenshot of the screen with ImageMagick's ``import``.

``$LDL_GIMP_HOST_TEST`` names the run's JSON configuration (``photo``, ``model``, ``screenshot``, ``result``; paths as
GIMP sees them). The result file gets the procedure's status and the layer tree that was shown, so the outer test can
tell what the screenshot ought to show.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any

import gi  # pyright: ignore[reportMissingImports]

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # pyright: ignore[reportMissingImports]  # noqa: E402

CONFIG_VARIABLE = "LDL_GIMP_HOST_TEST"
PROCEDURE = "ldl-upscale"
GROUP = "LDL"
DETAIL = "LDL detail"
DRAW_S = 4.0  # GIMP's main process draws the new window while this plug-in waits


def _tree(layer: Any) -> dict[str, Any]:
    mask = layer.get_mask()
    node: dict[str, Any] = {
        "name": layer.get_name(),
        "visible": bool(layer.get_visible()),
        "mask": None if mask is None else mask.get_name(),
        "size": [layer.get_width(), layer.get_height()],
    }
    if layer.is_group():
        node["children"] = [_tree(child) for child in layer.get_children()]
    return node


def _upscale(config: dict[str, Any]) -> Any:
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(config["photo"]))
    procedure = Gimp.get_pdb().lookup_procedure(PROCEDURE)
    assert procedure is not None, f"the PDB has no {PROCEDURE!r}: the plug-in was not registered"
    arguments = procedure.create_config()
    arguments.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    arguments.set_property("image", image)
    arguments.set_core_object_array("drawables", image.get_layers())
    arguments.set_property("model", config["model"])
    result = procedure.run(arguments)
    status = result.index(0)
    assert status == Gimp.PDBStatusType.SUCCESS, f"{PROCEDURE} ended with {status}: {result.index(1)}"
    shown = [image for image in Gimp.get_images() if any(layer.get_name() == GROUP for layer in image.get_layers())]
    assert shown, f"{PROCEDURE} succeeded but no image has a layer group {GROUP!r}"
    return shown[0]


def _show(image: Any) -> None:
    Gimp.Display.new(image)
    group = next(layer for layer in image.get_layers() if layer.get_name() == GROUP)
    group.set_expanded(True)
    detail = next((child for child in group.get_children() if child.get_name() == DETAIL), None)
    if detail is not None:
        image.set_selected_layers([detail])
        if detail.get_mask() is not None:
            detail.set_edit_mask(True)  # the mask's thumbnail is the highlighted one in the Layers dock
    Gimp.displays_flush()
    time.sleep(DRAW_S)


def main() -> None:
    config = json.loads(Path(os.environ[CONFIG_VARIABLE]).read_text("utf-8"))
    outcome: dict[str, Any] = {"error": None, "layers": None, "screenshot": None}
    try:
        image = _upscale(config)
        outcome["layers"] = [_tree(layer) for layer in image.get_layers()]
        outcome["image_size"] = [image.get_width(), image.get_height()]
        _show(image)
        done = subprocess.run(
            ["import", "-window", "root", config["screenshot"]], capture_output=True, text=True, timeout=60
        )
        outcome["screenshot"] = {"returncode": done.returncode, "output": done.stdout + done.stderr}
        for image in Gimp.get_images():
            image.clean_all()  # nothing asks to save on the way out
    except BaseException:
        outcome["error"] = traceback.format_exc()
    Path(config["result"]).write_text(json.dumps(outcome, indent=2), "utf-8")
    assert outcome["error"] is None, outcome["error"]


if __name__ == "__main__":
    main()
