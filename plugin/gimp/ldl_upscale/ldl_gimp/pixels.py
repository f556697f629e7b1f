"""GIMP drawables' pixels (as Gegl buffers hand them out in a babl format) ↔ the backend's ``RawImage``.

Pixels move through Gegl in a babl format the plug-in names, and babl converts between it and the drawable's own
storage, both ways:

================================ ======================== ===================================================
the image's precision            babl format asked for    sent to the backend as
================================ ======================== ===================================================
8-bit integer, perceptual         ``R'G'B'(A) u8``         uint8
8-bit integer, linear             ``R'G'B'(A) u16``        uint16 (see below)
16-bit integer, any               ``R'G'B'(A) u16``        uint16
32-bit integer, half, float,      ``R'G'B'(A) float``      float32
double; any
================================ ======================== ===================================================

(gray images the same with ``Y'`` / ``Y'A``). The primes ask for sRGB-encoded (perceptual) values, which is what the
networks were trained on: for a linear image babl encodes on the way out and decodes on the way back, so no
conversion is done here in Python. A linear 8-bit image travels as 16 bits because its 256 linear levels do not
survive a trip through 8-bit sRGB (near white, neighbouring linear levels fall on the same sRGB level); 16 bits
carry them exactly, and babl rounds back to the drawable's own 8 bits when the layer is written.

The results are written back in the babl format of the backend layer's channels (``Y'``, ``R'G'B'``, ``R'G'B'A``)
and the same sample type; babl fills opaque alpha where the layer has alpha and the backend sent none, and stores
the drawable's own precision. Samples are in the machine's byte order on the Gegl side and little-endian on the
wire (``RawImage``).

Alpha: a drawable whose alpha is fully opaque is sent without it (3 channels, or 1 for gray), so the backend runs
one pass instead of two. Gray with real transparency goes as RGBA with the gray repeated (the backend takes 1, 3 or
4 channels) and comes back as the mean of R, G and B, the backend's own rule for gray images.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ldl_client import RawImage

from .errors import UnsupportedImage

Dtype = Literal["uint8", "uint16", "float32"]
SAMPLE_BYTES: dict[str, int] = {"uint8": 1, "uint16": 2, "float32": 4}
_BABL_TYPE: dict[str, str] = {"uint8": "u8", "uint16": "u16", "float32": "float"}
_BABL_MODEL: dict[int, str] = {1: "Y'", 2: "Y'A", 3: "R'G'B'", 4: "R'G'B'A"}
_TYPECODE: dict[str, str] = {"uint8": "B", "uint16": "H", "float32": "f"}
# GIMP's storage (the first part of a Gimp.Precision nick, e.g. "u16-non-linear") → the dtype on the wire.
_STORAGE: dict[str, Dtype] = {
    "u8": "uint8",
    "u16": "uint16",
    "u32": "float32",
    "half": "float32",
    "float": "float32",
    "double": "float32",
}
_OPAQUE: dict[str, bytes] = {
    "uint8": b"\xff",
    "uint16": b"\xff\xff",
    "float32": array.array("f", [1.0]).tobytes(),
}


def babl_format(channels: int, dtype: str) -> str:
    """The babl format name of ``channels`` perceptual samples of ``dtype``, e.g. ``R'G'B'A u16``."""
    return f"{_BABL_MODEL[channels]} {_BABL_TYPE[dtype]}"


@dataclass(frozen=True)
class PixelLayout:
    """How one drawable's pixels are read and sent: gray or RGB, with or without alpha, and the wire ``dtype``."""

    gray: bool
    alpha: bool
    dtype: Dtype

    @classmethod
    def of(cls, base_type: str, precision: str, has_alpha: bool) -> PixelLayout:
        """The layout for an image of ``base_type`` (``Gimp.ImageBaseType`` nick: ``rgb``, ``gray``, ``indexed``)
        and ``precision`` (``Gimp.Precision`` nick, e.g. ``u8-perceptual``, ``half-linear``); raises
        ``UnsupportedImage`` for indexed images and ``ValueError`` for a precision GIMP does not have."""
        if base_type == "indexed":
            raise UnsupportedImage(
                "LDL cannot upscale an indexed image: its colours are a palette, not pixel values",
                "convert it with Image › Mode › RGB (or Grayscale), upscale, then convert back if you need to",
            )
        if base_type not in ("rgb", "gray"):
            raise ValueError(f"unknown image base type {base_type!r}")
        storage, _, trc = precision.partition("-")
        if storage not in _STORAGE or trc not in ("linear", "non-linear", "perceptual"):
            raise ValueError(f"unknown GIMP precision {precision!r}")
        dtype = _STORAGE[storage]
        if dtype == "uint8" and trc == "linear":
            dtype = "uint16"  # see the module's note: linear 8-bit levels need 16 bits once sRGB-encoded
        return cls(gray=base_type == "gray", alpha=has_alpha, dtype=dtype)

    @property
    def channels(self) -> int:
        """Samples per pixel as read from Gegl: 1 (Y'), 2 (Y'A), 3 (R'G'B') or 4 (R'G'B'A)."""
        return (1 if self.gray else 3) + (1 if self.alpha else 0)

    @property
    def read_format(self) -> str:
        return babl_format(self.channels, self.dtype)

    @property
    def pixel_bytes(self) -> int:
        return self.channels * SAMPLE_BYTES[self.dtype]


def to_raw(layout: PixelLayout, data: bytes, width: int, height: int) -> RawImage:
    """``width``×``height`` pixels read from Gegl in ``layout.read_format`` (machine byte order) → the image to upload.

    Raises ``ValueError`` when ``data`` does not hold that many pixels.
    """
    data = bytes(data)
    count = width * height
    if len(data) != count * layout.pixel_bytes:
        raise ValueError(
            f"{len(data)} bytes are not {width}x{height} pixels of {layout.read_format} ({count * layout.pixel_bytes})"
        )
    size = SAMPLE_BYTES[layout.dtype]
    channels = layout.channels
    if layout.alpha:
        planes = split_planes(data, size, channels)
        colour, alpha = planes[:-1], planes[-1]
        if alpha == _OPAQUE[layout.dtype] * count:
            data, channels = interleave(colour, size), channels - 1
        elif layout.gray:
            data, channels = interleave([colour[0], colour[0], colour[0], alpha], size), 4
    return RawImage.from_buffer(width, height, channels, layout.dtype, data, byteorder="native")


def from_raw(layout: PixelLayout, image: RawImage) -> tuple[str, bytes]:
    """A layer from the backend → (the babl format to write it in, its samples in the machine's byte order).

    The format follows the layer's channels (babl converts to the drawable's); a 4-channel layer for a gray drawable
    becomes ``Y'A`` with the rounded mean of R, G and B. Raises ``ValueError`` for another dtype than the layout's.
    """
    if image.dtype != layout.dtype:
        raise ValueError(f"a {image.dtype} layer cannot fill a drawable read as {layout.read_format}")
    data = native_samples(image)
    if layout.gray and image.channels == 4:
        size = SAMPLE_BYTES[image.dtype]
        red, green, blue, alpha = split_planes(data, size, 4)
        return babl_format(2, image.dtype), interleave([mean3(red, green, blue, image.dtype), alpha], size)
    return babl_format(image.channels, image.dtype), data


def native_samples(image: RawImage) -> bytes:
    """The image's samples in the machine's byte order (the wire's are little-endian)."""
    if sys.byteorder == "little" or image.dtype == "uint8":
        return image.data
    return image.samples().tobytes()


def split_planes(data: bytes, size: int, channels: int) -> list[bytes]:
    """Interleaved pixels of ``channels`` samples of ``size`` bytes → one bytes object per channel."""
    if channels == 1:
        return [data]
    stride = size * channels
    planes: list[bytes] = []
    for index in range(channels):
        plane = bytearray(len(data) // channels)
        for byte in range(size):
            plane[byte::size] = data[index * size + byte :: stride]
        planes.append(bytes(plane))
    return planes


def interleave(planes: Sequence[bytes], size: int) -> bytes:
    """The inverse of ``split_planes``."""
    if len(planes) == 1:
        return planes[0]
    channels = len(planes)
    stride = size * channels
    out = bytearray(len(planes[0]) * channels)
    for index, plane in enumerate(planes):
        for byte in range(size):
            out[index * size + byte :: stride] = plane[byte::size]
    return bytes(out)


def mean3(first: bytes, second: bytes, third: bytes, dtype: str) -> bytes:
    """The per-sample mean of three planes (machine order); integers round half up."""
    a, b, c = (array.array(_TYPECODE[dtype], plane) for plane in (first, second, third))
    if dtype == "float32":
        return array.array("f", [(x + y + z) / 3.0 for x, y, z in zip(a, b, c, strict=True)]).tobytes()
    return array.array(_TYPECODE[dtype], [(x + y + z + 1) // 3 for x, y, z in zip(a, b, c, strict=True)]).tobytes()
