"""Write ``ImageData`` as PNG, TIFF, JPEG or WebP, atomically, keeping as much of it as the format can hold.

PNG keeps 8 and 16 bits (float is stored as 16-bit), TIFF keeps 8/16-bit and float32; both keep alpha. JPEG and
WebP are 8-bit (rounded, not truncated); JPEG refuses alpha rather than dropping it. Gray stays one channel except
in WebP, which has no gray mode. The ICC profile goes into every format, EXIF into PNG, JPEG and WebP, resolution
into PNG, TIFF and JPEG.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np
from PIL import Image

from ldl_backend.errors import ImageFileError, OutputExistsError
from ldl_backend.imageio.formats import output_format
from ldl_backend.imageio.image import ImageData
from ldl_backend.imageio.png_stream import write_png
from ldl_backend.imageio.samples import float_to_uint16, to_uint8
from ldl_backend.storage import atomic_output

_WEBP_MAX_SIDE = 16383
_JPEG_MAX_SIDE = 65500
_JPEG_MAX_SEGMENT = 65533  # bytes of data in one JPEG marker segment (EXIF cannot span several)
_LOSSLESS_HINT = "write PNG or TIFF"

# What the encoders and the file system raise when a write fails.
_ENCODE_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, KeyError, struct.error, zlib.error, cv2.error)


def write_image(
    path: Path,
    image: ImageData,
    *,
    file_format: str | None = None,
    quality: int = 95,
    overwrite: bool = False,
) -> None:
    """Write ``image`` to ``path`` in ``file_format`` ("png", "tiff"/"tif", "jpeg"/"jpg", "webp"; default: the suffix).

    ``quality`` (1–100) is used by JPEG and WebP; JPEG at 90 or more keeps full-resolution colour (no chroma
    subsampling). The file appears complete or not at all: it is written beside ``path`` and renamed over it.

    Raises OutputExistsError when ``path`` exists and ``overwrite`` is false (the file is left untouched);
    ImageFileError for an unknown format, alpha in a JPEG, a size the format cannot hold, or a failed write (no
    file at ``path`` and no temporary file remain); ValueError for a quality outside 1–100.
    """
    fmt = output_format(path, file_format)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, not {quality}")
    if path.is_dir():
        raise ImageFileError(f"cannot write {path}: it is a folder", "give a file name for the output")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} already exists", "pass --overwrite to replace it, or choose another name")
    encoder = _check_and_choose(fmt, image, path.name)
    try:
        with atomic_output(path) as stream:
            encoder(stream, image, quality)
    except _ENCODE_ERRORS as error:
        raise ImageFileError(
            f"could not write {path.name} as {fmt}: {error}",
            "check that the folder is writable and the disk has space",
        ) from error


def _check_and_choose(fmt: str, image: ImageData, name: str) -> Callable[[BinaryIO, ImageData, int], None]:
    """Refuse what the format cannot hold before any file is created; return the encoder."""
    if fmt == "JPEG":
        if image.alpha is not None:
            raise ImageFileError(
                f"cannot write {name}: JPEG cannot store transparency; write PNG, WebP or TIFF",
                "choose a .png, .webp or .tif output to keep the alpha channel",
            )
        _check_side(image, _JPEG_MAX_SIDE, "JPEG", name)
        if image.metadata.exif and len(image.metadata.exif) > _JPEG_MAX_SEGMENT:
            raise ImageFileError(
                f"cannot write {name}: its EXIF block ({len(image.metadata.exif):,} bytes) does not fit in a JPEG",
                "write PNG, WebP or TIFF, or remove the EXIF data",
            )
        return _write_jpeg
    if fmt == "WEBP":
        _check_side(image, _WEBP_MAX_SIDE, "WebP", name)
        return _write_webp
    return _write_png if fmt == "PNG" else _write_tiff


def _check_side(image: ImageData, limit: int, label: str, name: str) -> None:
    if max(image.width, image.height) > limit:
        raise ImageFileError(
            f"cannot write {name}: {image.width}×{image.height} is larger than {label} allows ({limit} per side)",
            _LOSSLESS_HINT,
        )


def _write_png(stream: BinaryIO, image: ImageData, _quality: int) -> None:
    meta = image.metadata
    colour, alpha = image.colour, image.alpha
    if image.dtype == np.float32:
        colour = float_to_uint16(colour)
        alpha = float_to_uint16(alpha) if alpha is not None else None
    write_png(stream, colour, alpha, icc_profile=meta.icc_profile, exif=meta.exif, dpi=meta.dpi)


def _write_tiff(stream: BinaryIO, image: ImageData, _quality: int) -> None:
    meta = image.metadata
    gray = image.is_gray
    planes = image.colour[:, :, 0] if gray and image.alpha is None else image.colour
    if image.alpha is not None:
        planes = np.dstack([image.colour, image.alpha])
    options: dict[str, Any] = {}
    if meta.icc_profile:
        options["iccprofile"] = meta.icc_profile
    if meta.dpi:
        options["resolution"] = meta.dpi
        options["resolutionunit"] = "INCH"
    import tifffile  # here, not at the top: tifffile takes a tenth of a second to load

    # Into memory first: tifffile takes a file object's integer ``name`` (from os.fdopen) for a path and fails.
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        np.ascontiguousarray(planes),
        photometric="minisblack" if gray else "rgb",
        planarconfig="contig",
        extrasamples=[tifffile.EXTRASAMPLE.UNASSALPHA] if image.alpha is not None else None,
        compression="zlib",
        # The horizontal predictor shrinks photos a lot; tifffile's floating-point one needs imagecodecs.
        predictor=image.dtype != np.float32,
        software="LDL Studio",
        metadata=None,
        **options,
    )
    stream.write(buffer.getbuffer())


def _write_jpeg(stream: BinaryIO, image: ImageData, quality: int) -> None:
    options = _pillow_metadata(image)
    if not image.is_gray and quality >= 90:
        options["subsampling"] = 0  # 4:4:4: upscaled detail is exactly what 4:2:0 would blur
    _pillow_image(to_uint8(image.colour), None).save(stream, format="JPEG", quality=quality, **options)


def _write_webp(stream: BinaryIO, image: ImageData, quality: int) -> None:
    alpha = to_uint8(image.alpha) if image.alpha is not None else None
    options = _pillow_metadata(image)
    options.pop("dpi", None)  # WebP has no resolution field
    # exact: keep the colour under fully transparent pixels instead of letting the encoder replace it.
    _pillow_image(to_uint8(image.colour), alpha).save(stream, format="WEBP", quality=quality, exact=True, **options)


def _pillow_image(colour: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    """A Pillow image of uint8 planes: L, LA, RGB or RGBA (the mode follows from the array's shape)."""
    planes = colour if alpha is None else np.dstack([colour, alpha])
    if planes.shape[2] == 1:
        planes = planes[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(planes))


def _pillow_metadata(image: ImageData) -> dict[str, Any]:
    # Only what is present: Pillow's JPEG encoder fails on exif=None.
    meta = image.metadata
    options: dict[str, Any] = {}
    if meta.icc_profile:
        options["icc_profile"] = meta.icc_profile
    if meta.exif:
        options["exif"] = meta.exif
    if meta.dpi:
        options["dpi"] = meta.dpi
    return options
