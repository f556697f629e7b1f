"""One file in, one file out, with or without the artifact layers: the checks before decoding, the upscale, and the
writes (the main output, and with layers the map and the layer files too: all of them or none).

The CLI calls ``upscale_file`` for every file; its in-memory step is the one the server's worker runs
(``upscale_image`` without layers, ``upscale_with_layers`` with them), so a CLI result and a server result for the
same inputs are identical.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldl_backend.artifacts.layers import PendingImage, layer_images, layer_paths, write_together
from ldl_backend.artifacts.overlay import map_to_uint16
from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.engine.files import FileJob, FileResult, read_checked
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.progress import CancelToken, ProgressCallback
from ldl_backend.engine.upscale import PreparedEngine
from ldl_backend.errors import OutputExistsError
from ldl_backend.imageio import ImageData, write_image


@dataclass(frozen=True)
class LayerRequest:
    """The artifact side of a file job. ``options``: reference, threshold, softness (or a user mask);
    ``reference_engine``: the engine of a ``model:NAME`` reference; ``blend_as_output``: the main output is the
    blend (else the detail); ``layers_folder``/``map_path``: what to write beside it."""

    options: ArtifactOptions
    reference_engine: PreparedEngine | None = None
    blend_as_output: bool = True
    layers_folder: Path | None = None
    map_path: Path | None = None


def upscale_file(
    job: FileJob,
    engine: PreparedEngine,
    layers: LayerRequest | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FileResult:
    """Read, upscale (with ``layers``: also the reference, map, mask and blend) and write. Nothing is written
    unless everything succeeded.

    Raises ``OutputExistsError`` before any work when an output exists and ``job.overwrite`` is off,
    ``ImageTooLargeError`` before decoding when the input or output is over the pixel budget, and the reader's,
    engine's and writer's errors (``ImageFileError``, ``CancelledError``, ``OutOfMemoryError``).
    """
    return compute_file(job, engine, layers, progress=progress, cancel=cancel).write()


@dataclass(frozen=True)
class ComputedFile:
    """A job's outputs in memory, not yet written; ``write`` puts them in place (all or none). Apart so that a
    batch can write one file while the next one computes."""

    job: FileJob
    main: ImageData
    extra: tuple[PendingImage, ...]  # the map and layer files of a job with layers
    input_size: tuple[int, int]
    started: float

    @property
    def nbytes(self) -> int:
        return self.main.nbytes + sum(item.image.nbytes for item in self.extra)

    def write(self) -> FileResult:
        job = self.job
        if self.extra:
            main = PendingImage(job.destination, self.main, job.file_format, job.quality)
            write_together([main, *self.extra], overwrite=job.overwrite)
        else:
            write_image(
                job.destination, self.main, file_format=job.file_format, quality=job.quality, overwrite=job.overwrite
            )
        seconds = time.perf_counter() - self.started
        return FileResult(job.source, job.destination, self.input_size, (self.main.width, self.main.height), seconds)


def compute_file(
    job: FileJob,
    engine: PreparedEngine,
    layers: LayerRequest | None = None,
    *,
    image: ImageData | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ComputedFile:
    """``upscale_file`` up to the writes: the checks, the read and the upscale (and layers). ``image``: the input,
    already read by ``read_checked`` (a batch reads the next file while this one computes)."""
    started = time.perf_counter()
    if image is None:
        image = read_checked(job, engine.runner.scale)
    if layers is None:
        main = upscale_image(
            image,
            engine.runner,
            engine.settings,
            alpha_mode=job.alpha_mode,
            output_size=job.output_size,
            progress=progress,
            cancel=cancel,
        )
        return ComputedFile(job, main, (), (image.width, image.height), started)
    if not job.overwrite:
        _refuse_existing(job, layers, deep=image.dtype != np.uint8)
    result = upscale_with_layers(
        image,
        engine,
        layers.options,
        reference_engine=layers.reference_engine,
        alpha_mode=job.alpha_mode,
        output_size=job.output_size,
        progress=progress,
        cancel=cancel,
    )
    main = result.blend if layers.blend_as_output else result.detail
    extra: list[PendingImage] = []
    if layers.map_path is not None:
        extra.append(PendingImage(layers.map_path, ImageData(map_to_uint16(result.artifact_map)), "png"))
    if layers.layers_folder is not None:
        extra += layer_images(result, layers.layers_folder, job.source.stem)
    return ComputedFile(job, main, tuple(extra), (image.width, image.height), started)


def _refuse_existing(job: FileJob, layers: LayerRequest, *, deep: bool) -> None:
    """Before the (long) upscale: every file this job would write must be new."""
    paths = [job.destination, *([layers.map_path] if layers.map_path else [])]
    if layers.layers_folder is not None:
        paths += layer_paths(layers.layers_folder, job.source.stem, deep).values()
    existing = [str(path) for path in paths if path.exists()]
    if existing:
        raise OutputExistsError(f"{', '.join(existing)} already exist", "pass --overwrite to replace them")
