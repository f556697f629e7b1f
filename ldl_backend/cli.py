"""The ``ldl`` command: the composition root for the command line (in-process, no server needed)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from ldl_backend.engine.device import Precision, choose_target
from ldl_backend.engine.upscale import TileSettings, upscale_array
from ldl_backend.errors import LdlError
from ldl_backend.imageio.pillow_io import read_image, resize_alpha, write_png
from ldl_backend.models.catalog import DEFAULT_MODEL, builtin_catalog
from ldl_backend.models.formats.onnx_export import export_onnx
from ldl_backend.models.formats.pth import WeightsKey
from ldl_backend.models.loading import LoadedModel, load_model
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    store = ModelStore(models_root(), builtin_catalog())
    try:
        return int(arguments.handler(arguments, store))
    except LdlError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no output was written", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ldl", description="LDL Studio: super-resolution that shows its artifacts")
    commands = parser.add_subparsers(dest="command", required=True)

    upscale = commands.add_parser("upscale", help="upscale an image with a model")
    upscale.add_argument("input", type=Path)
    upscale.add_argument("-o", "--output", type=Path, help="output PNG (default: INPUT_xS.png beside the input)")
    upscale.add_argument("-m", "--model", default=DEFAULT_MODEL, help="catalog name or a model file")
    upscale.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best available)")
    upscale.add_argument("--precision", type=Precision, choices=list(Precision))
    upscale.add_argument("--tile", type=int, default=192, help="tile size in input pixels")
    upscale.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    upscale.set_defaults(handler=_upscale)

    models = commands.add_parser("models", help="list, install and remove models").add_subparsers(
        dest="models_command", required=True
    )
    listing = models.add_parser("list", help="the catalog and what is installed")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_models_list)
    importing = models.add_parser("import", help="register a .pth, .safetensors or ncnn .param file")
    importing.add_argument("file", type=Path)
    importing.add_argument("--name", help="catalog name (default: from the file name)")
    importing.add_argument(
        "--weights",
        type=WeightsKey,
        choices=list(WeightsKey),
        default=WeightsKey.AUTO,
        help="which weights of a BasicSR checkpoint: auto picks params when both exist",
    )
    importing.set_defaults(handler=_models_import)
    for name, handler, text in (
        ("fetch", _models_fetch, "download a listed model and verify its sha256"),
        ("info", _models_info, "describe a model"),
        ("remove", _models_remove, "uninstall a model"),
    ):
        command = models.add_parser(name, help=text)
        command.add_argument("name")
        command.set_defaults(handler=handler)
    export = models.add_parser("export-onnx", help="export a model to ONNX (checked against PyTorch)")
    export.add_argument("name", help="catalog name or a model file")
    export.add_argument("output", type=Path)
    export.add_argument("--opset", type=int, default=17)
    export.set_defaults(handler=_models_export)
    return parser


def _resolve_model(reference: str, store: ModelStore) -> LoadedModel:
    path = Path(reference)
    if reference not in store.catalog() and (path.suffix or path.exists()):
        return load_model(path)
    return store.load(reference)


def _upscale(arguments: argparse.Namespace, store: ModelStore) -> int:
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    image = read_image(arguments.input)
    model = _resolve_model(arguments.model, store)
    target = choose_target(model.descriptor, arguments.device, arguments.precision)
    scale = model.descriptor.scale
    output = arguments.output or arguments.input.with_name(f"{arguments.input.stem}_x{scale}.png")
    height, width = image.colour.shape[:2]
    print(
        f"{arguments.input.name}: {width}×{height} → {width * scale}×{height * scale} with "
        f"{arguments.model} ({model.descriptor.summary()}) on {target.device} {target.precision.value}"
    )
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        remaining = elapsed / done * (total - done)
        print(f"\r  tile {done}/{total}, {elapsed:.0f} s elapsed, ~{remaining:.0f} s left", end="", flush=True)

    result = upscale_array(model, image.colour, target, TileSettings(tile=arguments.tile), report)
    print()
    alpha = resize_alpha(image.alpha, result.shape[:2]) if image.alpha is not None else None
    write_png(output, result, alpha, image.icc)
    print(f"wrote {output} in {time.perf_counter() - started:.1f} s")
    return 0


def _models_list(arguments: argparse.Namespace, store: ModelStore) -> int:
    rows = store.list()
    if arguments.json:
        print(
            json.dumps(
                [
                    {
                        "name": s.entry.name,
                        "architecture": s.entry.architecture.value,
                        "scale": s.entry.scale,
                        "role": s.entry.role.value,
                        "installed": s.installed,
                        "offline": s.available_offline,
                        "licence": s.entry.licence,
                        "source": s.entry.source.describe(),
                    }
                    for s in rows
                ],
                indent=2,
            )
        )
        return 0
    for status in rows:
        state = "installed" if status.installed else "built in" if status.available_offline else "not installed"
        print(
            f"{status.entry.name:26} {status.entry.architecture.value:16} ×{status.entry.scale}  {state:13} "
            f"{status.entry.description}"
        )
    return 0


def _models_import(arguments: argparse.Namespace, store: ModelStore) -> int:
    entry = store.import_file(arguments.file, arguments.name, arguments.weights)
    print(f"imported {arguments.file.name} as {entry.name} ({entry.architecture.value} ×{entry.scale})")
    return 0


def _models_fetch(arguments: argparse.Namespace, store: ModelStore) -> int:
    def report(received: int, total: int | None) -> None:
        size = f"/{total >> 20} MiB" if total else " MiB"
        print(f"\r  {received >> 20}{size}", end="", flush=True)

    path = store.fetch(arguments.name, report)
    print(f"\ninstalled {arguments.name} at {path}")
    return 0


def _models_info(arguments: argparse.Namespace, store: ModelStore) -> int:
    status = store.status(arguments.name)
    entry = status.entry
    print(f"name:         {entry.name}\narchitecture: {entry.architecture.value}\nscale:        ×{entry.scale}")
    print(f"role:         {entry.role.value}\nlicence:      {entry.licence}\nsource:       {entry.source.describe()}")
    sha = getattr(entry.source, "sha256", None) or getattr(entry.source, "bin_sha256", None)
    print(f"sha256:       {sha or 'not published'}\ninstalled:    {status.path if status.installed else 'no'}")
    if status.installed:
        descriptor = store.load(arguments.name).descriptor
        print(
            f"detected:     {descriptor.config}\nsize multiple: {descriptor.size_multiple}, "
            f"receptive field: {descriptor.receptive_field} px, fp16: {descriptor.supports_fp16}"
        )
    return 0


def _models_remove(arguments: argparse.Namespace, store: ModelStore) -> int:
    store.remove(arguments.name)
    print(f"removed {arguments.name}")
    return 0


def _models_export(arguments: argparse.Namespace, store: ModelStore) -> int:
    check = export_onnx(_resolve_model(arguments.name, store), arguments.output, opset=arguments.opset)
    worst = max(check.max_abs_difference.values())
    print(f"wrote {arguments.output} (ONNX Runtime matches PyTorch within {worst:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
