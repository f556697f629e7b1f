"""The ``Gimp.PlugIn``: registers ``ldl-upscale`` and ``ldl-blend-selection`` and runs them (inside GIMP only).

``ldl-upscale`` arguments (after GIMP's run-mode, image and drawables), all usable from batch mode and other
plug-ins: ``model`` (str, catalog id), ``factor`` (int, 0 = the model's own), ``reference`` (str), ``threshold``
and ``softness`` (double, 0–1), ``selection-target`` (choice ``new-image`` | ``layer-group``), ``device`` (str),
``precision`` (str), ``tile`` (int, 0 = automatic). Return values: ``result-image`` (the image holding the group:
this one, or the new one), ``group`` (the ``LDL`` group layer), ``job-id`` (str, the backend job whose layers these
are: ``Client.layer(job_id, name, "raw")`` fetches them). ``ldl-blend-selection`` takes nothing more and returns
``group`` (the group whose mask it changed).

Errors return ``EXECUTION_ERROR`` (``CALLING_ERROR`` for a bad argument) with one message: the cause, then
"(hint: …)"; GIMP shows it in interactive runs, and batch callers read it from the second return value.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ldl_client import (
    ClientError,
    ConnectSettings,
    SubmitOptions,
    connect,
    connect_settings,
    dump_rates,
    learn,
    load_rates,
)

from .arguments import MAX_FACTOR, SELECTION_TARGETS, UpscaleArguments, read_arguments, to_options
from .cancel_guard import CancelGuard
from .errors import BackendFailed, InvalidArgument, PluginError
from .gimp_api import Gimp, GLib, GObject
from .host import apply_upscale, blend_detail_into_selection, convert_layers, read_source, source_of
from .job import run_job

UPSCALE = "ldl-upscale"
BLEND = "ldl-blend-selection"
MENU_PATH = "<Image>/Filters/Enhance"
PLUGIN_DIR = Path(__file__).resolve().parents[1]
# A backend that has to be started loads torch first: give it time.
CONNECT_TIMEOUT = 120.0
_RW = GObject.ParamFlags.READWRITE
_TARGET_LABELS = {"new-image": "A new image", "layer-group": "A layer group at the selection"}


class LdlPlugIn(Gimp.PlugIn):
    def do_query_procedures(self) -> list[str]:
        return [UPSCALE, BLEND]

    def do_set_i18n(self, name: str) -> bool:
        return False

    def do_create_procedure(self, name: str) -> Any:
        if name == UPSCALE:
            return register_upscale(self)
        if name == BLEND:
            return register_blend(self)
        return None


def main(argv: list[str]) -> None:
    """The plug-in process's entry point (``ldl_upscale.py``)."""
    Gimp.main(LdlPlugIn.__gtype__, argv)


def register_upscale(plug_in: Any) -> Any:
    defaults = UpscaleArguments.defaults()
    procedure = Gimp.ImageProcedure.new(plug_in, UPSCALE, Gimp.PDBProcType.PLUGIN, run_upscale, None)
    procedure.set_image_types("*")  # indexed images get the plug-in's own message instead of a greyed-out item
    procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
    procedure.set_menu_label("Upscale with LDL…")
    procedure.add_menu_path(MENU_PATH)
    procedure.set_documentation(
        "Upscale with an LDL Studio model and keep its detail only where it looks real",
        "Scales the image by the factor and adds the group LDL: the faithful upscale (LDL reference), the "
        "detail upscale (LDL detail) with a mask that keeps detail only where the artifact map says it is "
        "likely real, and the hidden artifact map. With a selection, only its bounding box is upscaled, into a new "
        "image or a layer group. Runs on the LDL Studio backend (ldl serve).",
        UPSCALE,
    )
    procedure.set_attribution("LDL Studio", "LDL Studio", "2026")
    procedure.add_string_argument("model", "_Model", "Catalog id of the model (ldl models list)", defaults.model, _RW)
    procedure.add_int_argument(
        "factor", "_Factor", "Output factor; 0 = the model's own", 0, MAX_FACTOR, defaults.factor, _RW
    )
    procedure.add_string_argument(
        "reference",
        "_Reference",
        "What the artifact map compares the detail with: tta, tta:2, tta:4, tta:8, model:NAME or lanczos",
        defaults.reference,
        _RW,
    )
    procedure.add_double_argument(
        "threshold", "_Threshold", "Artifact-map value where detail fades out (0–1)", 0.0, 1.0, defaults.threshold, _RW
    )
    procedure.add_double_argument(
        "softness", "_Softness", "Width of the fade around the threshold (0–1)", 0.0, 1.0, defaults.softness, _RW
    )
    choice = Gimp.Choice.new()
    for index, target in enumerate(SELECTION_TARGETS):
        choice.add(target, index, _TARGET_LABELS[target], "")
    procedure.add_choice_argument(
        "selection-target",
        "With a _selection, put the result in",
        "Where a selection's upscale goes: new-image or layer-group (without a selection the image is scaled)",
        choice,
        defaults.selection_target,
        _RW,
    )
    procedure.add_string_argument("device", "_Device", "auto, cpu, cuda, cuda:N or mps", defaults.device, _RW)
    procedure.add_string_argument("precision", "_Precision", "auto, fp32, fp16 or bf16", defaults.precision, _RW)
    procedure.add_int_argument(
        "tile", "T_ile", "Tile side in input pixels; 0 = automatic, else 16–8192", 0, 8192, defaults.tile, _RW
    )
    procedure.add_image_return_value("result-image", "Result image", "The image holding the LDL group", False, _RW)
    procedure.add_layer_return_value("group", "Group", "The LDL group layer", False, _RW)
    procedure.add_string_return_value("job-id", "Job id", "The LDL Studio backend job of these layers", "", _RW)
    return procedure


def register_blend(plug_in: Any) -> Any:
    procedure = Gimp.ImageProcedure.new(plug_in, BLEND, Gimp.PDBProcType.PLUGIN, run_blend, None)
    procedure.set_image_types("*")
    procedure.set_sensitivity_mask(
        Gimp.ProcedureSensitivityMask.DRAWABLE
        | Gimp.ProcedureSensitivityMask.DRAWABLES
        | Gimp.ProcedureSensitivityMask.NO_DRAWABLES
    )
    procedure.set_menu_label("Blend LDL detail into selection")
    procedure.add_menu_path(MENU_PATH)
    procedure.set_documentation(
        "Show the LDL detail inside the selection",
        "Makes the mask of the LDL group's detail layer white inside the selection (feathering respected: the "
        "mask becomes max(mask, selection)) and leaves it as it is elsewhere. Works on the LDL group holding the "
        "selected layer, else the topmost one.",
        BLEND,
    )
    procedure.set_attribution("LDL Studio", "LDL Studio", "2026")
    procedure.add_layer_return_value("group", "Group", "The LDL group whose mask changed", False, _RW)
    return procedure


def run_upscale(procedure: Any, run_mode: Any, image: Any, drawables: list[Any], config: Any, data: Any) -> Any:
    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    try:
        if not interactive:
            to_options(read_arguments(config))  # a bad argument fails before anything is read or sent
        source = source_of(image, drawables, str(config.get_property("selection-target")))
        settings = connect_settings_of(PLUGIN_DIR)
        Gimp.progress_init("Connecting to LDL Studio")
        client = _backend(lambda: connect(timeout=CONNECT_TIMEOUT, settings=settings))
        if interactive:
            from .dialog import run_dialog  # GTK only when a dialog is shown

            models = _backend(client.models)
            size = (source.region.width, source.region.height)
            rates = load_rates(_read_rates())
            selected = source.region.target != "image"
            if not run_dialog(procedure, config, models, size, selected, rates, import_model=client.import_model):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
            source = source_of(image, drawables, str(config.get_property("selection-target")))
            Gimp.progress_init("Upscaling with LDL")  # the dialog's time is no part of the job's progress
        options = to_options(read_arguments(config))
        raw = read_source(source)
        started = time.monotonic()
        with CancelGuard(PLUGIN_DIR, settings.environment) as guard:
            layers = run_job(client, raw, options, on_progress=_progress(), on_submitted=guard.watch)
        converted = convert_layers(source.layout, layers)
        placement = source.region.place((image.get_width(), image.get_height()), layers.scale)
        _learn(options, placement.size, time.monotonic() - started)
        result_image, group = apply_upscale(source, converted, placement, interactive)
    except InvalidArgument as e:
        return _error(procedure, Gimp.PDBStatusType.CALLING_ERROR, e)
    except PluginError as e:
        return _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, e)
    finally:
        Gimp.progress_end()
    if interactive:
        Gimp.displays_flush()
    return Gimp.ValueArray.new_from_values(
        [
            GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS),
            GObject.Value(Gimp.Image, result_image),
            GObject.Value(Gimp.Layer, group),
            GObject.Value(GObject.TYPE_STRING, layers.job_id),
        ]
    )


def run_blend(procedure: Any, run_mode: Any, image: Any, drawables: list[Any], config: Any, data: Any) -> Any:
    try:
        group = blend_detail_into_selection(image, list(drawables))
    except PluginError as e:
        return _error(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, e)
    if run_mode == Gimp.RunMode.INTERACTIVE:
        Gimp.displays_flush()
    return Gimp.ValueArray.new_from_values(
        [GObject.Value(Gimp.PDBStatusType, Gimp.PDBStatusType.SUCCESS), GObject.Value(Gimp.Layer, group)]
    )


def connect_settings_of(folder: Path) -> ConnectSettings:
    """The installer's record beside the plug-in (plain settings without one); a damaged record is a
    ``PluginError`` with the client's message and hint."""
    try:
        return connect_settings(folder)
    except ClientError as e:
        raise PluginError(e.message, e.hint) from e


def _backend(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ClientError as e:
        raise BackendFailed(e.message, e.hint or "check that the LDL Studio backend is running") from e


def _rates_file() -> Path:
    # GIMP's own profile folder: the rates belong to this user's GIMP, like its settings.
    return Path(Gimp.directory()) / "ldl-studio-rates.json"


def _read_rates() -> str:
    try:
        return _rates_file().read_text("utf-8")
    except OSError:
        return ""  # nothing learned yet


def _learn(options: SubmitOptions, size: tuple[int, int], seconds: float) -> None:
    """Fold a finished job's time into the dialog's estimate (``ldl_client.learn``); a file that cannot be written
    only means the estimate learns nothing."""
    rates = load_rates(_read_rates())
    learn(options.model, options.device, options.reference, size[0] * size[1], seconds, rates)
    with contextlib.suppress(OSError):
        _rates_file().write_text(dump_rates(rates), "utf-8")


def _progress() -> Callable[[float, str], None]:
    shown: list[str] = []

    def report(fraction: float, text: str) -> None:
        if not shown or shown[-1] != text:
            Gimp.progress_set_text(text)
            shown[:] = [text]
        Gimp.progress_update(min(1.0, max(0.0, fraction)))

    return report


def _error(procedure: Any, status: Any, error: PluginError) -> Any:
    return procedure.new_return_values(status, GLib.Error(str(error)))
