"""Read PNG, JPEG, WebP, TIFF and BMP into ``ImageData`` without losing bits, alpha, profile or orientation.

Every read starts with a header probe (probe.py), so an image over the pixel budget is refused before a byte of
pixels is decoded. Pillow decodes what it decodes losslessly; 16-bit RGB(A) and gray+alpha PNG go through OpenCV,
TIFF through tifffile (png16.py and tiff_decode.py say why).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ldl_backend.errors import ImageFileError, ImageTooLargeError
from ldl_backend.imageio.formats import DAMAGED_HINT, DECODE_ERRORS, sniff_format
from ldl_backend.imageio.image import ImageData, ImageMetadata
from ldl_backend.imageio.jpeg_markers import has_end_of_image
from ldl_backend.imageio.orientation import apply_orientation, reset_orientation
from ldl_backend.imageio.pillow_decode import decode_pillow
from ldl_backend.imageio.png16 import decode_png16
from ldl_backend.imageio.png_chunks import COLOUR_GRAY_ALPHA, COLOUR_RGB, COLOUR_RGBA, PngFacts, read_png_facts
from ldl_backend.imageio.probe import ImageInfo, Probe, open_file, pillow_image, probe_stream, sniff_file

if TYPE_CHECKING:  # tifffile loads only when a TIFF comes
    from ldl_backend.imageio.tiff_decode import TiffHeader

# Pillow refuses anything above 2 × Image.MAX_IMAGE_PIXELS (89,478,485) at open, whatever we allow, so the default
# budget stops there: about 179 megapixels, more than a 100-megapixel medium-format camera produces.
DEFAULT_MAX_PIXELS = 178_956_970


@dataclass(frozen=True)
class _Decoded:
    colour: np.ndarray
    alpha: np.ndarray | None
    icc_profile: bytes | None
    exif: bytes | None
    dpi: tuple[float, float] | None
    note: str = ""


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageData:
    """Decode the image at ``path`` into colour + alpha arrays in the file's own precision.

    Colour is H×W×1 (gray, also for bilevel) or H×W×3 (RGB; palette, CMYK, YCbCr and Lab are converted); alpha is
    H×W of the same dtype or None. dtype: uint8 for 8-bit (and 1-bit, as 0/255) files, uint16 for 16-bit ones,
    float32 for float files (values kept as stored, including outside 0–1); 32-bit integer gray becomes uint16
    when its values fit, else float32 divided by 65535. The orientation is applied to the pixels and reset to 1 in
    the EXIF kept in ``metadata``; the ICC profile is kept (CMYK converted through its profile gets sRGB's).

    Raises ImageTooLargeError, before decoding, when width × height exceeds ``max_pixels``; ImageFileError when
    the file is missing, a folder, empty, truncated, damaged, animated or not PNG/JPEG/WebP/TIFF/BMP.
    """
    fmt = sniff_file(path)
    with open_file(path) as stream:
        _check_budget(probe_stream(stream, fmt, path.name).info, max_pixels, path.name)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageFileError(f"cannot read {path}: {error.strerror}", "check the file's permissions") from error
    # The pixels come from these bytes, so their header is what counts (the file may have changed meanwhile).
    probe = probe_stream(io.BytesIO(data), fmt, path.name)
    _check_budget(probe.info, max_pixels, path.name)
    decoded = _decode(data, probe, path.name)
    colour = apply_orientation(decoded.colour, probe.orientation)
    alpha = apply_orientation(decoded.alpha, probe.orientation) if decoded.alpha is not None else None
    if colour.shape[:2] != (probe.info.height, probe.info.width):
        raise ImageFileError(
            f"{path.name}: decoded {colour.shape[1]}×{colour.shape[0]} pixels, the header says "
            f"{probe.info.width}×{probe.info.height}",
            DAMAGED_HINT,
        )
    metadata = ImageMetadata(
        icc_profile=decoded.icc_profile,
        exif=reset_orientation(decoded.exif) if decoded.exif else None,
        source_format=fmt,
        source_mode=f"{probe.info.mode} ({decoded.note})" if decoded.note else probe.info.mode,
        dpi=decoded.dpi,
    )
    return ImageData(colour, alpha, metadata)


def check_image_bytes(data: bytes, name: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """What ``read_image`` checks before it decodes, on an image file's bytes, without decoding a pixel: the format
    (from the first bytes), the header, the pixel budget, and that the file is complete (a PNG's every CRC up to
    IEND, a JPEG's end-of-image marker). ``name`` stands for the file in messages.

    Raises what ``read_image`` raises for these; a file that passes may still fail to decode (damaged pixel data).
    """
    fmt = sniff_format(data[:32], name)
    probe = probe_stream(io.BytesIO(data), fmt, name)
    _check_budget(probe.info, max_pixels, name)
    if probe.png is not None:
        _check_png_complete(data, name)
    elif fmt == "JPEG" and not has_end_of_image(data):
        raise ImageFileError(f"{name} is an incomplete JPEG (its end-of-image marker is missing)", DAMAGED_HINT)
    return probe.info


def _check_png_complete(data: bytes, name: str) -> None:
    try:
        read_png_facts(io.BytesIO(data), check_all=True)  # every CRC, up to IEND: refuses truncated files
    except DECODE_ERRORS as error:
        raise ImageFileError(f"{name} is a damaged PNG: {error}", DAMAGED_HINT) from error


def _check_budget(info: ImageInfo, max_pixels: int, name: str) -> None:
    if info.pixels > max_pixels:
        raise ImageTooLargeError(
            f"{name} is {info.width}×{info.height} = {info.pixels:,} pixels, more than the limit of {max_pixels:,}",
            "crop or downscale the image first, or raise the pixel limit if this machine has the memory",
        )


def _decode(data: bytes, probe: Probe, name: str) -> _Decoded:
    if probe.png is not None:
        return _decode_png(data, probe.png, name)
    if probe.tiff is not None:
        return _decode_tiff(data, probe.tiff, name)
    if probe.info.format == "JPEG" and not has_end_of_image(data):
        raise ImageFileError(f"{name} is an incomplete JPEG (its end-of-image marker is missing)", DAMAGED_HINT)
    return _decode_with_pillow(data, probe.info.format, name)


def _decode_png(data: bytes, facts: PngFacts, name: str) -> _Decoded:
    _check_png_complete(data, name)
    header = facts.header
    if header.bit_depth == 16 and header.colour_type in (COLOUR_RGB, COLOUR_GRAY_ALPHA, COLOUR_RGBA):
        try:
            colour, alpha = decode_png16(data, header)
        except DECODE_ERRORS as error:
            raise ImageFileError(f"{name} is a damaged 16-bit PNG: {error}", DAMAGED_HINT) from error
        return _Decoded(colour, alpha, facts.icc_profile, facts.exif, facts.dpi)
    decoded = _decode_with_pillow(data, "PNG", name)
    return _Decoded(decoded.colour, decoded.alpha, facts.icc_profile, facts.exif, facts.dpi, decoded.note)


def _decode_with_pillow(data: bytes, fmt: str, name: str) -> _Decoded:
    with pillow_image(io.BytesIO(data), fmt, name) as image:
        image.load()  # raises on truncated data (ImageFile.LOAD_TRUNCATED_IMAGES is False)
        pixels = decode_pillow(image)
        exif = image.info.get("exif")
        dpi = image.info.get("dpi")
    return _Decoded(
        pixels.colour,
        pixels.alpha,
        pixels.icc_profile,
        _exif_bytes(exif),
        _dpi_pair(dpi),
        pixels.note,
    )


def _decode_tiff(data: bytes, header: TiffHeader, name: str) -> _Decoded:
    import tifffile  # here, not at the top: most inputs are not TIFF, and tifffile takes a tenth of a second to load

    from ldl_backend.imageio.tiff_decode import decode_tiff_pixels, without_orientation

    if header.needs_pillow:
        decoded = _decode_with_pillow(without_orientation(data, header), "TIFF", name)
        return _Decoded(decoded.colour, decoded.alpha, decoded.icc_profile, None, header.dpi, decoded.note)
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tiff:
            colour, alpha = decode_tiff_pixels(tiff, header)
    except Exception as tifffile_error:  # tifffile's optional codecs (imagecodecs) raise their own types
        colour, alpha = _decode_tiff_fallback(data, header, name, tifffile_error)
    return _Decoded(colour, alpha, header.icc_profile, None, header.dpi)


def _decode_tiff_fallback(
    data: bytes, header: TiffHeader, name: str, tifffile_error: BaseException
) -> tuple[np.ndarray, np.ndarray | None]:
    """tifffile failed (most often: a codec such as LZW needs the imagecodecs package); try OpenCV, then Pillow."""
    from ldl_backend.imageio.tiff_decode import decode_tiff_with_opencv, without_orientation

    if not header.has_alpha:
        try:
            return decode_tiff_with_opencv(data, header)
        except DECODE_ERRORS as error:
            raise ImageFileError(
                f"{name} could not be decoded: {tifffile_error}; OpenCV: {error}",
                f"{DAMAGED_HINT}, or save it with ZIP/Deflate compression (or pip install imagecodecs)",
            ) from error
    if header.bit_depth == 8:
        pixels = _decode_with_pillow(without_orientation(data, header), "TIFF", name)
        return pixels.colour, pixels.alpha
    raise ImageFileError(
        f"{name} could not be decoded: {tifffile_error}",
        "save it with ZIP/Deflate compression or none, or install imagecodecs (pip install imagecodecs)",
    ) from tifffile_error


def _exif_bytes(value: object) -> bytes | None:
    if not isinstance(value, (bytes, bytearray)) or not value:
        return None
    exif = bytes(value)
    # JPEG stores "Exif\0\0" + TIFF structure, WebP usually the bare structure; we keep Pillow's prefixed form.
    return exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif


def _dpi_pair(value: object) -> tuple[float, float] | None:
    if not isinstance(value, tuple) or len(value) != 2:
        return None
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        return None
    return (x, y) if x > 0 and y > 0 else None
