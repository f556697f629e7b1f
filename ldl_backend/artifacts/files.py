"""One file in, the upscale plus its artifact layers out: the main output (blend or detail), the map, the layers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldl_backend.artifacts.layers import PendingImage, layer_images, layer_paths, write_together
from ldl_backend.artifacts.overlay import map_to_uint16
from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.engine.files import FileJob, FileResult, read_checked
from ldl_backend.engine.progress import CancelToken, ProgressCallback
from ldl_backend.engine.upscale import PreparedEngine
from ldl_backend.errors import OutputExistsError
from ldl_backend.imageio import ImageData


@dataclass(frozen=True)
class LayerOutputs:
    """What to write beside the main output. ``blend_as_output``: the main output is the blend (else the detail)."""

    blend_as_output: bool = True
    layers_folder: Path | None = None
    map_path: Path | None = None


def upscale_file_with_layers(
    job: FileJob,
    engine: PreparedEngine,
    options: ArtifactOptions,
    outputs: LayerOutputs,
    *,
    reference_engine: PreparedEngine | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FileResult:
    """Read, upscale with layers, write the main output, the map and the layers: all of them or none.

    Raises like ``upscale_file`` (existing outputs are refused before any work unless ``job.overwrite``)."""
    started = time.perf_counter()
    image = read_checked(job, engine.runner.scale)
    if not job.overwrite:
        _refuse_existing(job, outputs, deep=image.dtype != np.uint8)
    layers = upscale_with_layers(
        image,
        engine,
        options,
        reference_engine=reference_engine,
        alpha_mode=job.alpha_mode,
        output_size=job.output_size,
        progress=progress,
        cancel=cancel,
    )
    main = layers.blend if outputs.blend_as_output else layers.detail
    pending = [PendingImage(job.destination, main, job.file_format, job.quality)]
    if outputs.map_path is not None:
        pending.append(PendingImage(outputs.map_path, ImageData(map_to_uint16(layers.artifact_map)), "png"))
    if outputs.layers_folder is not None:
        pending += layer_images(layers, outputs.layers_folder, job.source.stem)
    write_together(pending, overwrite=job.overwrite)
    seconds = time.perf_counter() - started
    return FileResult(job.source, job.destination, (image.width, image.height), (main.width, main.height), seconds)


def _refuse_existing(job: FileJob, outputs: LayerOutputs, *, deep: bool) -> None:
    """Before the (long) upscale: every file this job would write must be new."""
    paths = [job.destination, *([outputs.map_path] if outputs.map_path else [])]
    if outputs.layers_folder is not None:
        paths += layer_paths(outputs.layers_folder, job.source.stem, deep).values()
    existing = [str(path) for path in paths if path.exists()]
    if existing:
        raise OutputExistsError(f"{', '.join(existing)} already exist", "pass --overwrite to replace them")
