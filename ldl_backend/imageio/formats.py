"""Which file formats we read and write, told apart by their first bytes (never by the file name when reading)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
from PIL import Image

from ldl_backend.errors import ImageFileError

# The file-name suffixes of each readable format. Reading goes by the first bytes; the suffixes only pick which
# files of a folder (or a drop) are images to read.
_READABLE_SUFFIXES = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "WEBP": (".webp",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp",),
}
READABLE_FORMATS = tuple(_READABLE_SUFFIXES)
INPUT_SUFFIXES = frozenset(suffix for suffixes in _READABLE_SUFFIXES.values() for suffix in suffixes)
WRITABLE_FORMATS = ("PNG", "TIFF", "JPEG", "WEBP")

FORMAT_HINT = "use PNG, JPEG, WebP or TIFF"
DAMAGED_HINT = "the file is damaged or incomplete; open it in an image editor and export it again"

# Output names accepted for ``file_format`` and as suffixes (lower case, without the dot).
_OUTPUT_NAMES = {
    "png": "PNG",
    "tif": "TIFF",
    "tiff": "TIFF",
    "jpg": "JPEG",
    "jpeg": "JPEG",
    "jpe": "JPEG",
    "webp": "WEBP",
}

# First bytes of formats we refuse, only so that the message can name them.
_KNOWN_UNSUPPORTED = (
    (b"%!PS", "EPS/PostScript"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"8BPS", "PSD (Photoshop)"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"gimp xcf", "XCF (GIMP)"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"II\xbc\x01", "JPEG XR"),
    (b"v/1\x01", "OpenEXR"),
    (b"#?RADIANCE", "Radiance HDR"),
    (b"qoif", "QOI"),
    (b"DDS ", "DDS"),
)

# What the third-party decoders (Pillow, OpenCV, tifffile, zlib) raise on a damaged or hostile file. Named one by
# one rather than ``Exception`` so that a bug in our own code still surfaces as itself.
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    zlib.error,
    cv2.error,  # tifffile's TiffFileError is a ValueError (so tifffile loads only when a TIFF comes)
    Image.DecompressionBombError,
)


def sniff_format(head: bytes, name: str) -> str:
    """Return the format ("PNG", "JPEG", "WEBP", "TIFF" or "BMP") from the first 32 bytes of a file.

    Raises ImageFileError for an empty file, a format we do not read (named when we recognise it) or bytes that
    are no image at all.
    """
    if not head:
        raise ImageFileError(f"{name} is empty (0 bytes)", "the file was not written completely; export it again")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    for magic, label in _KNOWN_UNSUPPORTED:
        if head.startswith(magic):
            raise ImageFileError(f"{name}: unsupported format {label}; {FORMAT_HINT}", f"convert it: {FORMAT_HINT}")
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("ascii", "replace").strip()
        raise ImageFileError(
            f"{name}: unsupported format HEIF/AVIF ({brand}); {FORMAT_HINT}", f"convert it: {FORMAT_HINT}"
        )
    raise ImageFileError(
        f"{name} is not an image we can read (unrecognised content); {FORMAT_HINT}",
        "check that the file is a complete image and not, e.g., a web page saved under an image name",
    )


def output_format(path: Path, file_format: str | None) -> str:
    """The format to write: ``file_format`` when given (case-insensitive, "jpg"/"tif" accepted), else the suffix."""
    requested = file_format if file_format is not None else path.suffix.lstrip(".")
    resolved = _OUTPUT_NAMES.get(requested.lower())
    if resolved is None:
        what = f"format {file_format!r}" if file_format is not None else f"suffix {path.suffix or '(none)'!r}"
        raise ImageFileError(
            f"cannot write {path.name}: unknown output {what}",
            "name the output .png, .tif, .jpg or .webp (PNG or TIFF keep 16-bit, float and alpha)",
        )
    return resolved
