"""A file job: what to read and write, and the checks that come before decoding (the output is new, the pixel
budget holds). ``ldl_backend.artifacts.files.upscale_file`` runs it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ldl_backend.engine.pipeline import AlphaMode, OutputSize
from ldl_backend.errors import ImageTooLargeError, OutputExistsError
from ldl_backend.imageio import ImageData, probe_image, read_image

# 1 gigapixel out: a 24-megapixel photo ×4 is 384 MP. Above it, memory (≥ 3 GB for 8-bit RGB) and time explode.
DEFAULT_MAX_OUTPUT_PIXELS = 1_000_000_000


@dataclass(frozen=True)
class FileJob:
    source: Path
    destination: Path
    output_size: OutputSize | None = None
    alpha_mode: AlphaMode = AlphaMode.RESIZE
    file_format: str | None = None
    quality: int = 95
    overwrite: bool = False
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS


@dataclass(frozen=True)
class FileResult:
    source: Path
    destination: Path
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    seconds: float


def largest_output(width: int, height: int, scale: int, output_size: OutputSize | None) -> int:
    """Pixels of the largest image an upscale of ``width``×``height`` makes: the model's ×``scale`` output or the
    final size, whichever is larger. The output budget (``max_output_pixels``) applies to it."""
    final = (output_size or OutputSize()).resolve(width, height, scale)
    return max(width * scale * height * scale, final[0] * final[1])


def read_checked(job: FileJob, scale: int) -> ImageData:
    """The input of ``job``, read after the checks that must come first: the destination is not the input and does
    not exist (unless ``overwrite``), and the ×``scale`` output fits the pixel budget (checked before decoding).
    Raises ``OutputExistsError``, ``ImageTooLargeError`` and the reader's ``ImageFileError``."""
    if job.destination.resolve() == job.source.resolve():
        raise OutputExistsError(
            f"{job.destination} is the input itself; the input is never overwritten", "choose another output name"
        )
    if job.destination.exists() and not job.overwrite:
        raise OutputExistsError(f"{job.destination} already exists", "pass --overwrite to replace it")
    info = probe_image(job.source)
    largest = largest_output(info.width, info.height, scale, job.output_size)
    if largest > job.max_output_pixels:
        raise ImageTooLargeError(
            f"{job.source.name} is {info.width}×{info.height}; upscaling it would make a {largest:,}-pixel "
            f"image, over the limit of {job.max_output_pixels:,} pixels",
            "crop or shrink the input, ask for a smaller --scale, or raise --max-pixels",
        )
    return read_image(job.source, max_pixels=job.max_output_pixels)
