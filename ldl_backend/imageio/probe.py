"""Header probe: format, size after orientation and pixel layout of an image file, without decoding pixels.

The format comes from the file's first bytes, never its name, and Pillow is only ever asked to open the one format
those bytes announced, so it never runs its EPS (Ghostscript) or any other plugin on a disguised file. PNG and TIFF
headers are read by our chunk walker and tifffile, JPEG, WebP and BMP by Pillow's lazy open.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from PIL import Image

from ldl_backend.errors import ImageFileError, ImageTooLargeError
from ldl_backend.imageio.formats import DAMAGED_HINT, DECODE_ERRORS, FORMAT_HINT, sniff_format
from ldl_backend.imageio.orientation import exif_orientation, oriented_size
from ldl_backend.imageio.pillow_decode import PILLOW_MODES, has_transparency
from ldl_backend.imageio.png_chunks import (
    COLOUR_GRAY,
    COLOUR_GRAY_ALPHA,
    COLOUR_PALETTE,
    COLOUR_RGB,
    COLOUR_RGBA,
    PngFacts,
    read_png_facts,
)

if TYPE_CHECKING:  # tifffile loads only when a TIFF comes
    from ldl_backend.imageio.tiff_decode import TiffHeader

_PNG_BASE_MODES = {
    COLOUR_GRAY: "L",
    COLOUR_RGB: "RGB",
    COLOUR_PALETTE: "P",
    COLOUR_GRAY_ALPHA: "LA",
    COLOUR_RGBA: "RGBA",
}


@dataclass(frozen=True)
class ImageInfo:
    """What a file's header says, without decoding pixels.

    ``width``/``height``: after the EXIF/TIFF orientation is applied (what ``read_image`` returns). ``format``:
    "PNG", "JPEG", "WEBP", "TIFF" or "BMP". ``mode``: how the file stores pixels (e.g. "RGBA;16", "P+transparency",
    "CMYK", "RGB;32F"). ``bit_depth``: bits per stored sample (1, 8, 16, 32, 64). ``has_alpha``: ``read_image``
    returns an alpha plane. ``channels``: colour channels ``read_image`` returns, 1 (gray) or 3, alpha not counted.
    """

    width: int
    height: int
    format: str
    mode: str
    bit_depth: int
    has_alpha: bool
    channels: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class Probe:
    """``info`` plus what decoding needs: the orientation to apply and the PNG or TIFF header."""

    info: ImageInfo
    orientation: int
    png: PngFacts | None = None
    tiff: TiffHeader | None = None


def probe_image(path: Path) -> ImageInfo:
    """Read only the header of the image at ``path`` (a PNG's chunks are walked, its pixel data skipped).

    Raises ImageFileError when the file is missing, a folder, empty, damaged, animated or not in a supported
    format, and ImageTooLargeError when Pillow's own decompression-bomb limit (about 179 megapixels) refuses a
    JPEG, WebP or BMP header.
    """
    fmt = sniff_file(path)
    with open_file(path) as stream:
        return probe_stream(stream, fmt, path.name).info


def sniff_file(path: Path) -> str:
    with open_file(path) as stream:
        return sniff_format(stream.read(32), path.name)


@contextlib.contextmanager
def open_file(path: Path) -> Iterator[BinaryIO]:
    if path.is_dir():
        raise ImageFileError(f"{path} is a folder, not an image file", "give the path of an image file")
    if not path.exists():
        raise ImageFileError(f"{path} does not exist", "check the path and the file name")
    if not path.is_file():  # a FIFO or device would block or never end
        raise ImageFileError(f"{path} is not a regular file", "give the path of an image file")
    try:
        stream = path.open("rb")
    except OSError as error:
        raise ImageFileError(f"cannot open {path}: {error.strerror}", "check the file's permissions") from error
    with stream:
        yield stream


@contextlib.contextmanager
def pillow_image(stream: BinaryIO, fmt: str, name: str) -> Iterator[Image.Image]:
    """Open with Pillow restricted to ``fmt``, translating its errors (also those raised in the ``with`` body)."""
    with warnings.catch_warnings():
        # We compare width × height with our own budget; Pillow's global limit is neither relied on nor changed.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(stream, formats=[fmt]) as image:
                yield image
        except Image.DecompressionBombError as error:
            raise ImageTooLargeError(
                f"{name} has more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels, Pillow's decompression-bomb limit",
                "crop or downscale the image first",
            ) from error
        except DECODE_ERRORS as error:
            raise ImageFileError(f"{name} could not be decoded as {fmt}: {error}", DAMAGED_HINT) from error


def probe_stream(stream: BinaryIO, fmt: str, name: str) -> Probe:
    """Probe an open file (or bytes) whose format ``sniff_format`` found to be ``fmt``. Raises ``ImageFileError``
    for a header the file's format cannot hold, a width or height of 0 included."""
    probe = _probe_format(stream, fmt, name)
    if probe.info.width < 1 or probe.info.height < 1:
        # A TIFF may say ImageWidth 0: tifffile reads it, and the decoders return an empty array for the engine.
        raise ImageFileError(
            f"{name}: its header says {probe.info.width}×{probe.info.height} pixels; an image has at least 1×1",
            DAMAGED_HINT,
        )
    return probe


def _probe_format(stream: BinaryIO, fmt: str, name: str) -> Probe:
    if fmt == "PNG":
        return _probe_png(stream, name)
    if fmt == "TIFF":
        return _probe_tiff(stream, name)
    with pillow_image(stream, fmt, name) as image:
        if image.format not in (fmt, "MPO"):  # MPO: a JPEG with extra frames (previews, depth); frame 0 is the photo
            raise ImageFileError(
                f"{name}: unsupported format {image.format}; {FORMAT_HINT}", f"convert it: {FORMAT_HINT}"
            )
        frames = getattr(image, "n_frames", 1)
        if fmt == "WEBP" and frames > 1:
            raise _animated(name, "WebP", frames)
        described = PILLOW_MODES.get(image.mode)
        if described is None:
            raise ImageFileError(f"{name}: unsupported pixel mode {image.mode}", "convert it to 8-bit RGB first")
        channels, alpha_in_mode, bits = described
        transparent = has_transparency(image)
        mode = image.mode + ("+transparency" if transparent and not alpha_in_mode else "")
        exif = image.info.get("exif")
        orientation = exif_orientation(exif if isinstance(exif, bytes) else None)
        width, height = oriented_size(image.width, image.height, orientation)
        return Probe(ImageInfo(width, height, fmt, mode, bits, transparent, channels), orientation)


def _probe_png(stream: BinaryIO, name: str) -> Probe:
    try:
        facts = read_png_facts(stream)
    except DECODE_ERRORS as error:
        raise ImageFileError(f"{name} is not a readable PNG: {error}", DAMAGED_HINT) from error
    if facts.frames > 1:
        raise _animated(name, "PNG", facts.frames)
    header = facts.header
    base = _PNG_BASE_MODES.get(header.colour_type)
    if base is None:
        raise ImageFileError(f"{name}: invalid PNG colour type {header.colour_type}", DAMAGED_HINT)
    if header.colour_type == COLOUR_GRAY and header.bit_depth == 1:
        mode = "1"
    else:
        # A palette's index depth says nothing about its colours (always 8-bit), so it is not shown.
        shown_depth = header.bit_depth != 8 and header.colour_type != COLOUR_PALETTE
        mode = base + (f";{header.bit_depth}" if shown_depth else "")
    if facts.transparent:
        mode += "+transparency"
    has_alpha = header.colour_type in (COLOUR_GRAY_ALPHA, COLOUR_RGBA) or facts.transparent
    orientation = exif_orientation(facts.exif)
    width, height = oriented_size(header.width, header.height, orientation)
    bits = 8 if header.colour_type == COLOUR_PALETTE else header.bit_depth
    channels = 1 if header.colour_type in (COLOUR_GRAY, COLOUR_GRAY_ALPHA) else 3
    return Probe(ImageInfo(width, height, "PNG", mode, bits, has_alpha, channels), orientation, png=facts)


def _probe_tiff(stream: BinaryIO, name: str) -> Probe:
    import tifffile  # here, not at the top: most inputs are not TIFF, and tifffile takes a tenth of a second to load

    from ldl_backend.imageio.tiff_decode import read_tiff_header

    try:
        with tifffile.TiffFile(stream) as tiff:
            header = read_tiff_header(tiff)
    except (*DECODE_ERRORS, TypeError) as error:  # damaged tags hold tuples where one number belongs
        raise ImageFileError(f"{name} is not a readable TIFF: {error}", DAMAGED_HINT) from error
    width, height = oriented_size(header.width, header.height, header.orientation)
    info = ImageInfo(width, height, "TIFF", header.mode, header.bit_depth, header.has_alpha, header.channels)
    return Probe(info, header.orientation, tiff=header)


def _animated(name: str, kind: str, frames: int) -> ImageFileError:
    return ImageFileError(
        f"{name} is an animated {kind} ({frames} frames); animations are not supported",
        f"export the frame you want as a still {kind}",
    )
