"""``ldl models``: list, import, fetch, info, remove, export-onnx; also for assets (files metrics need)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ldl_backend.commands.enum_choice import enum_choice
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.models.formats.onnx_export import export_onnx
from ldl_backend.models.formats.pth import WeightsKey
from ldl_backend.models.store import ModelStore, resolve_model
from ldl_client.records import Availability


def add_subcommands(models: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    listing = models.add_parser("list", help="the catalog and what is installed")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_models)
    importing = models.add_parser(
        "import", help="register a .pth, .safetensors or ncnn .param file, or install an asset file (--name ASSET)"
    )
    importing.add_argument("file", type=Path)
    importing.add_argument("--name", help="catalog name (default: from the file name)")
    importing.add_argument(
        "--weights",
        default=WeightsKey.AUTO,
        **enum_choice(WeightsKey),
        help="which weights of a BasicSR checkpoint: auto picks params when both exist",
    )
    importing.set_defaults(handler=import_model)
    for name, handler, text in (
        ("fetch", fetch_model, "download a listed model or asset and verify its sha256"),
        ("info", model_info, "describe a model or asset"),
        ("remove", remove_model, "uninstall a model or asset"),
    ):
        command = models.add_parser(name, help=text)
        command.add_argument("name")
        command.set_defaults(handler=handler)
    export = models.add_parser("export-onnx", help="export a model to ONNX (checked against PyTorch)")
    export.add_argument("name", help="catalog name or a model file")
    export.add_argument("output", type=Path)
    export.add_argument("--opset", type=int, default=17)
    export.set_defaults(handler=export_model)


def assets_beside(store: ModelStore) -> AssetStore:
    # Assets live in a sibling of the models folder (paths.assets_root() for the product's models_root()), so the
    # store the composition root built decides both and a test's isolated store has its own assets.
    return AssetStore(store.root.parent / "assets")


def list_models(arguments: argparse.Namespace, store: ModelStore) -> int:
    rows = store.list()
    assets = assets_beside(store).list()
    if arguments.json:
        print(
            json.dumps(
                [
                    {
                        "kind": "model",
                        "name": s.entry.name,
                        "architecture": s.entry.architecture,
                        "scale": s.entry.scale,
                        "role": s.entry.role.value,
                        "installed": s.installed,
                        "offline": s.available_offline,
                        "availability": s.availability.value,
                        "note": s.note,
                        "licence": s.entry.licence,
                        "source": s.entry.source.describe(),
                    }
                    for s in rows
                ]
                + [
                    {
                        "kind": "asset",
                        "name": a.entry.name,
                        "installed": a.installed,
                        "licence": a.entry.licence,
                        "source": a.entry.source.describe(),
                        "description": a.entry.description,
                    }
                    for a in assets
                ],
                indent=2,
            )
        )
        return 0
    # The same availability and note as the server's /models (what the front ends show).
    for status in rows:
        print(
            f"{status.entry.name:26} {status.entry.architecture:16} ×{status.entry.scale}  "
            f"{_STATES[status.availability]:13} {status.entry.description}"
        )
        if status.note:
            print(f"{'':26} {status.note}")
    print("\nassets (files that metrics need):")
    for asset in assets:
        state = "installed" if asset.installed else "not installed"
        print(f"{asset.entry.name:26} {state:13} {asset.entry.description}")
    return 0


_STATES = {
    Availability.READY: "installed",
    Availability.PACKAGED: "packaged",
    Availability.DOWNLOAD: "downloadable",
    Availability.MANUAL: "manual",
}


def import_model(arguments: argparse.Namespace, store: ModelStore) -> int:
    assets = assets_beside(store)
    if arguments.name in assets:
        path = assets.import_file(arguments.name, arguments.file)
        print(f"installed {arguments.name} at {path}")
        return 0
    entry = store.import_file(arguments.file, arguments.name, arguments.weights)
    print(f"imported {arguments.file.name} as {entry.name} ({entry.architecture} ×{entry.scale})")
    return 0


def fetch_model(arguments: argparse.Namespace, store: ModelStore) -> int:
    def report(received: int, total: int | None) -> None:
        size = f"/{total >> 20} MiB" if total else " MiB"
        print(f"\r  {received >> 20}{size}", end="", flush=True)

    assets = assets_beside(store)
    path = assets.fetch(arguments.name, report) if arguments.name in assets else store.fetch(arguments.name, report)
    print(f"\ninstalled {arguments.name} at {path}")
    return 0


def model_info(arguments: argparse.Namespace, store: ModelStore) -> int:
    assets = assets_beside(store)
    if arguments.name in assets:
        asset = assets.status(arguments.name)
        lines = [
            f"name:         {asset.entry.name} (asset)",
            f"description:  {asset.entry.description}",
            f"licence:      {asset.entry.licence}",
            f"source:       {asset.entry.source.describe()}",
            f"sha256:       {asset.entry.sha256}",
            f"installed:    {asset.path if asset.installed else 'no'}",
        ]
        print("\n".join(lines))
        return 0
    status = store.status(arguments.name)
    entry = status.entry
    sha = getattr(entry.source, "sha256", None) or getattr(entry.source, "bin_sha256", None)
    lines = [
        f"name:         {entry.name}",
        f"architecture: {entry.architecture}",
        f"scale:        ×{entry.scale}",
        f"role:         {entry.role.value}",
        f"licence:      {entry.licence}",
        f"source:       {entry.source.describe()}",
        f"sha256:       {sha or 'not published'}",
        f"installed:    {status.path if status.installed else 'no'}",
    ]
    if status.note:
        lines.append(f"to use it:    {status.note}")
    if status.installed:
        descriptor = store.load(arguments.name).descriptor
        lines += [
            f"detected:     {descriptor.config}",
            f"size multiple {descriptor.size_multiple}, receptive field {descriptor.receptive_field} px, "
            f"fp16 {descriptor.supports_fp16}, bf16 {descriptor.supports_bf16}",
        ]
    print("\n".join(lines))
    return 0


def remove_model(arguments: argparse.Namespace, store: ModelStore) -> int:
    assets = assets_beside(store)
    if arguments.name in assets:
        assets.remove(arguments.name)
    else:
        store.remove(arguments.name)
    print(f"removed {arguments.name}")
    return 0


def export_model(arguments: argparse.Namespace, store: ModelStore) -> int:
    model, _ = resolve_model(arguments.name, store)
    check = export_onnx(model, arguments.output, opset=arguments.opset)
    worst = max(check.max_abs_difference.values())
    print(f"wrote {arguments.output} (ONNX Runtime matches PyTorch within {worst:.1e})")
    return 0
