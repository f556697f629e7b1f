"""``ldl batch``: a whole folder tree upscaled into a mirrored tree, in process or on a Ray cluster, resumable, each
output byte for byte what ``ldl upscale`` makes of its input. ``ldl batch --status OUTPUT_DIR`` reads the manifest.
The work itself is ``ldl_backend.batch``'s; which files and which output names, ``ldl_backend.batch.inputs``, shared
with ``ldl upscale``."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from ldl_backend.batch.driver import BatchRequest, run_batch
from ldl_backend.batch.manifest import MANIFEST_NAME, Manifest
from ldl_backend.batch.recipe import BatchRecipe
from ldl_backend.batch.report import format_status, format_summary
from ldl_backend.commands.upscale import (
    add_image_options,
    artifact_options_from,
    options_from,
    size_label,
    wants_layers,
)
from ldl_backend.engine.upscale import Backend
from ldl_backend.errors import LdlError
from ldl_backend.models.store import ModelStore, resolve_model
from ldl_client.options import ReferenceKind


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", type=Path, help="folder of images (sub-folders included)")
    parser.add_argument("-o", "--output", type=Path, help="output folder: mirrors the input tree, holds the manifest")
    add_image_options(parser)
    batch = parser.add_argument_group("batch")
    batch.add_argument(
        "--ray",
        help="where to run: off (in this process), local (start Ray on this machine) or a cluster address "
        "(HEAD:6379, or auto); default: $RAY_ADDRESS if set, else local when Ray is installed, else off",
    )
    batch.add_argument("--workers", type=int, help="workers (default: one per GPU, or CPUs ÷ --threads)")
    batch.add_argument(
        "--gpus-per-worker", type=float, help="GPUs per worker (default 1 when the cluster has GPUs; 0.5 = two a GPU)"
    )
    batch.add_argument("--resume", action="store_true", help="skip items whose input and settings are unchanged")
    batch.add_argument("--retries", type=int, default=3, help="tries per item before it is recorded as failed")
    batch.add_argument("--status", type=Path, metavar="OUTPUT_DIR", help="print the manifest of a batch and exit")
    parser.set_defaults(map=None)  # ``ldl upscale --map`` names one file; a batch writes maps with --layers


def run(arguments: argparse.Namespace, store: ModelStore) -> int:
    if arguments.status is not None:
        return _print_status(arguments.status)
    if arguments.input is None or arguments.output is None:
        raise LdlError("ldl batch needs an input folder and -o OUTPUT_DIR", "or --status OUTPUT_DIR to read a manifest")
    recipe = recipe_from(arguments, store)
    request = request_from(arguments, recipe)
    summary = run_batch(request, recipe)
    print(format_summary(summary), file=sys.stderr)
    if summary.interrupted:
        return 130
    return 1 if summary.failed else 0


def request_from(arguments: argparse.Namespace, recipe: BatchRecipe) -> BatchRequest:
    """Where and how the batch runs: folders, Ray or not, the pool, --resume, --retries."""
    ray = _ray_address(arguments.ray)
    if ray is None and arguments.workers not in (None, 1):
        raise LdlError("in process there is one worker", "pass --ray local (or a cluster address) for --workers")
    try:
        return BatchRequest(
            arguments.input,
            arguments.output,
            size_label(recipe.model.descriptor.scale, recipe.output_size),
            ray=ray,
            workers=arguments.workers,
            threads=arguments.threads,
            gpus_per_worker=arguments.gpus_per_worker,
            resume=arguments.resume,
            overwrite=arguments.overwrite,
            retries=arguments.retries,
        )
    except ValueError as error:
        raise LdlError(f"invalid option: {error}", "see `ldl batch --help`") from error


def recipe_from(arguments: argparse.Namespace, store: ModelStore) -> BatchRecipe:
    """The options of ``ldl upscale``, read the way it reads them, and the models they name, loaded."""
    options, output_size = options_from(arguments)
    model, _ = resolve_model(arguments.model, store)
    artifacts = None
    reference_model = None
    if wants_layers(arguments):
        if arguments.backend is not Backend.TORCH:
            raise LdlError("the artifact map runs with the PyTorch backend", "drop --backend onnx")
        artifacts = artifact_options_from(arguments)
        reference = artifacts.reference
        if reference.kind is ReferenceKind.MODEL and reference.model_name is not None:
            reference_model, _ = resolve_model(reference.model_name, store)
    return BatchRecipe(
        model,
        options,
        output_size,
        arguments.alpha,
        arguments.format,
        arguments.quality,
        arguments.max_pixels,
        artifacts,
        reference_model,
        blend_as_output=arguments.blend != "off",
        layers_root=None if arguments.layers is None else arguments.layers.resolve(),
    )


def _ray_address(choice: str | None) -> str | None:
    """None (in process), ``local`` or a cluster address, from ``--ray`` and the environment."""
    if choice == "off":
        return None
    if choice is not None:
        return choice
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    return "local" if importlib.util.find_spec("ray") is not None else None


def _print_status(folder: Path) -> int:
    if not (folder / MANIFEST_NAME).is_file():
        raise LdlError(f"no batch manifest in {folder}", f"run `ldl batch INPUT_DIR -o {folder}` first")
    with Manifest(folder) as manifest:
        print(format_status(manifest))
    return 0
