"""``ldl upscale``: files and folders in, upscaled files out, one clear line per failure, a summary at the end."""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ldl_backend.artifacts.files import ComputedFile, LayerRequest, compute_file
from ldl_backend.artifacts.selective import ArtifactOptions
from ldl_backend.batch.inputs import BatchItem, collect_inputs, plan_outputs
from ldl_backend.commands.enum_choice import enum_choice
from ldl_backend.engine.device import Precision
from ldl_backend.engine.files import DEFAULT_MAX_OUTPUT_PIXELS, FileJob, FileResult, read_checked
from ldl_backend.engine.pipeline import AlphaMode, OutputSize
from ldl_backend.engine.progress import Progress
from ldl_backend.engine.upscale import Backend, EngineOptions, PreparedEngine, prepare_engine
from ldl_backend.errors import LdlError
from ldl_backend.imageio import read_image
from ldl_backend.imageio.image import dtype_max
from ldl_backend.models.catalog import DEFAULT_MODEL
from ldl_backend.models.formats.onnx_export import export_onnx
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore, resolve_model
from ldl_client.options import DEFAULT_REFERENCE, DEFAULT_SOFTNESS, DEFAULT_THRESHOLD, ReferenceKind, ReferenceSource

# Outputs up to this size are written while the next file computes: two images' outputs in memory at once.
WRITE_BEHIND_BYTES = 512 << 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, help="image files or folders")
    parser.add_argument("-o", "--output", type=Path, help="output file (one input) or folder")
    layers = add_image_options(parser)
    parser.add_argument("-r", "--recursive", action="store_true", help="include sub-folders of folder inputs")
    layers.add_argument("--map", type=Path, help="write the artifact map here (16-bit gray PNG; one input only)")


def add_image_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The options that decide what each output is (model, size, tiles, device, format, layers), shared with
    ``ldl batch`` so that every option means the same in both. Returns the artifact-map group."""
    parser.add_argument("-m", "--model", default=DEFAULT_MODEL, help="catalog name or a model file")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, help="final scale, e.g. 2 from a ×4 model (default: the model's)")
    size.add_argument("--width", type=int, help="final width in pixels (height follows unless --height)")
    parser.add_argument("--height", type=int, help="final height in pixels")
    parser.add_argument("--tile", default="auto", help="tile size in input pixels, or auto (from free memory)")
    parser.add_argument("--precision", default="auto", choices=["auto", *(p.value for p in Precision)])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--backend", default=Backend.TORCH, **enum_choice(Backend))
    parser.add_argument(
        "--alpha",
        default=AlphaMode.RESIZE,
        **enum_choice(AlphaMode),
        help="upscale transparency with a bicubic resize (default) or the model",
    )
    parser.add_argument("--format", choices=["png", "tiff", "jpeg", "webp"], help="output format (default: input's)")
    parser.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (1-100)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    layers = parser.add_argument_group("artifact map and selective blending")
    layers.add_argument(
        "--blend",
        default="off",
        help="auto: the output keeps generated detail only where the artifact map says it looks real; "
        "MASK.png: keep it where this mask (white = keep) says; off (default): the plain upscale",
    )
    layers.add_argument(
        "--reference",
        default=str(DEFAULT_REFERENCE),
        help="the faithful upscale the map compares against: lanczos (default, no extra model pass), tta:2, tta:4, "
        "tta (= tta:8, mean of 8 flips/rotations: the sharpest blend, 7 more passes) or model:NAME",
    )
    layers.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"map value at the middle of the fade from detail to reference (default {DEFAULT_THRESHOLD})",
    )
    layers.add_argument(
        "--softness",
        type=float,
        default=DEFAULT_SOFTNESS,
        help=f"width of that fade (0 = hard edge; default {DEFAULT_SOFTNESS})",
    )
    layers.add_argument(
        "--layers", type=Path, help="write every layer (detail, reference, map, overlay, mask, blend) into this folder"
    )
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_OUTPUT_PIXELS,
        help="refuse outputs larger than this many pixels (default: 1 gigapixel)",
    )
    return layers


def options_from(arguments: argparse.Namespace) -> tuple[EngineOptions, OutputSize | None]:
    try:
        tile = None if arguments.tile == "auto" else int(arguments.tile)
        options = EngineOptions(
            device=None if arguments.device == "auto" else arguments.device,
            precision=None if arguments.precision == "auto" else Precision(arguments.precision),
            backend=arguments.backend,
            tile=tile,
            alpha_mode=arguments.alpha,
            threads=arguments.threads,
        )
        output_size = None
        if arguments.scale is not None or arguments.width is not None or arguments.height is not None:
            output_size = OutputSize(arguments.scale, arguments.width, arguments.height)
    except ValueError as error:
        raise LdlError(f"invalid option: {error}", "see `ldl upscale --help`") from error
    if not 1 <= arguments.quality <= 100:
        raise LdlError(f"--quality must be between 1 and 100, not {arguments.quality}", "")
    return options, output_size


def wants_layers(arguments: argparse.Namespace) -> bool:
    return arguments.blend != "off" or arguments.map is not None or arguments.layers is not None


def run(arguments: argparse.Namespace, store: ModelStore) -> int:
    options, output_size = options_from(arguments)
    inputs = collect_inputs(arguments.inputs, arguments.recursive)
    if not inputs:
        raise LdlError("no images found in the given folders", "supported: PNG, JPEG, WebP, TIFF, BMP")
    if arguments.map is not None and len(inputs) > 1:
        raise LdlError("--map names one file but there are several inputs", "use --layers DIR for a batch")
    model, catalog_name = resolve_model(arguments.model, store)
    if wants_layers(arguments):
        if arguments.backend is not Backend.TORCH:
            raise LdlError("the artifact map runs with the PyTorch backend", "drop --backend onnx")
        engine = prepare_engine(model, options)
        return _run_batch(arguments, engine, model, output_size, inputs, layer_request(arguments, options, store))
    with tempfile.TemporaryDirectory(prefix="ldl-") as scratch:

        def onnx_file() -> Path:
            if catalog_name is not None:
                return store.onnx_file(catalog_name, model)
            export_onnx(model, Path(scratch) / "model.onnx")  # a model file outside the catalog: not cached
            return Path(scratch) / "model.onnx"

        engine = prepare_engine(model, options, onnx_file)
        return _run_batch(arguments, engine, model, output_size, inputs)


def _run_batch(
    arguments: argparse.Namespace,
    engine: PreparedEngine,
    model: LoadedModel,
    output_size: OutputSize | None,
    inputs: list[tuple[Path, Path]],
    layers: LayerRequest | None = None,
) -> int:
    label = size_label(model.descriptor.scale, output_size)
    items = plan_outputs(inputs, arguments.output, label, arguments.format)
    print(
        f"{len(items)} image(s) with {arguments.model} ({model.descriptor.summary()}) on "
        f"{engine.runner.description}, "
        + (f"tile {engine.settings.tile}" if engine.settings.fixed else "tiles planned per image")
        + f", overlap {engine.settings.overlap}",
        file=sys.stderr,
    )
    done: list[FileResult] = []
    failed = 0
    overall = tqdm(total=len(items), unit="image", desc="all", disable=len(items) < 2, file=sys.stderr)

    def fail(item: BatchItem, error: LdlError) -> None:
        nonlocal failed
        failed += 1
        tqdm.write(
            f"failed: {item.source}: {error.message}" + (f" ({error.hint})" if error.hint else ""), file=sys.stderr
        )
        overall.update(1)

    def finish(item: BatchItem, writing: concurrent.futures.Future[FileResult]) -> None:
        try:
            result = writing.result()
        except LdlError as error:
            fail(item, error)
            return
        done.append(result)
        tqdm.write(
            f"{result.source.name} → {result.destination} ({result.output_size[0]}×"
            f"{result.output_size[1]}, {result.seconds:.1f} s; {engine.describe_plan(*result.input_size)})",
            file=sys.stderr,
        )
        overall.update(1)

    jobs = [
        (
            item,
            FileJob(
                item.source,
                item.destination,
                output_size,
                arguments.alpha,
                arguments.format,
                arguments.quality,
                arguments.overwrite,
                arguments.max_pixels,
            ),
        )
        for item in items
    ]
    # The next file is read, and the last one written, while this one computes (a GPU would otherwise wait for the
    # decoder and the PNG encoder); a file whose outputs are large is written before the next begins, so a batch of
    # huge images peaks like one image.
    scale = engine.runner.scale
    with (
        concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ldl-reader") as reader,
        concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ldl-writer") as writer,
    ):
        writing: tuple[BatchItem, concurrent.futures.Future[FileResult]] | None = None
        reading = reader.submit(read_checked, jobs[0][1], scale)
        for index, (item, job) in enumerate(jobs):
            bar = tqdm(total=0, unit="step", desc=item.source.name, leave=False, file=sys.stderr)

            def report(progress: Progress, bar: tqdm = bar) -> None:  # type: ignore[type-arg]
                bar.total = progress.total
                bar.n = progress.done
                bar.set_postfix_str(progress.stage, refresh=False)  # detail, reference 3/8, map, blend
                bar.refresh()

            current = reading
            if index + 1 < len(jobs):
                reading = reader.submit(read_checked, jobs[index + 1][1], scale)
            computed: ComputedFile | LdlError
            try:
                computed = compute_file(job, engine, layers, image=current.result(), progress=report)
            except LdlError as error:
                computed = error
            finally:
                bar.close()
            if writing is not None:
                finish(*writing)
                writing = None
            if isinstance(computed, LdlError):
                fail(item, computed)
                continue
            writing = (item, writer.submit(computed.write))
            if computed.nbytes > WRITE_BEHIND_BYTES:
                finish(*writing)
                writing = None
        if writing is not None:
            finish(*writing)
    overall.close()
    seconds = sum(result.seconds for result in done)
    print(f"{len(done)} done, {failed} failed in {seconds:.1f} s", file=sys.stderr)
    return 1 if failed else 0


def layer_request(arguments: argparse.Namespace, options: EngineOptions, store: ModelStore) -> LayerRequest:
    """The artifact side of every file job, its options checked (and a reference model loaded) before the first."""
    artifact_options = artifact_options_from(arguments)
    reference = artifact_options.reference
    reference_engine = None
    if reference.kind is ReferenceKind.MODEL and reference.model_name is not None:
        reference_model, _ = resolve_model(reference.model_name, store)
        reference_engine = prepare_engine(reference_model, options)
    return LayerRequest(
        artifact_options,
        reference_engine,
        blend_as_output=arguments.blend != "off",
        layers_folder=arguments.layers,
        map_path=arguments.map,
    )


def artifact_options_from(arguments: argparse.Namespace) -> ArtifactOptions:
    """--reference, --threshold, --softness and a --blend mask file, checked (the mask read)."""
    try:
        reference = ReferenceSource.parse(arguments.reference)
        mask = None if arguments.blend in ("auto", "off") else read_mask(Path(arguments.blend))
        return ArtifactOptions(reference, arguments.threshold, arguments.softness, mask)
    except ValueError as error:
        raise LdlError(f"invalid option: {error}", "see `ldl upscale --help`") from error


def read_mask(path: Path) -> np.ndarray:
    """A user's mask file (gray or colour; white = keep detail) as H×W float32 in [0, 1]."""
    image = read_image(path)
    colour = image.colour.astype(np.float32) / np.float32(dtype_max(image.dtype))
    return np.clip(colour.mean(axis=2), 0.0, 1.0)


def size_label(model_scale: int, output_size: OutputSize | None) -> str:
    if output_size is None:
        return f"_x{model_scale}"
    if output_size.scale is not None:
        return f"_x{output_size.scale:g}"
    return "_" + "x".join(str(v) for v in (output_size.width, output_size.height) if v is not None)
