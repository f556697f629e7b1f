"""Krita's pixel bytes ↔ the backend's ``RawImage``, for every depth Krita hands out. Standard library only.

What Krita gives (``Node.pixelData``; samples in the machine's byte order, pixels row-major):

====== ===== ============================== =======================
model  depth  one pixel                       sent to the backend as
====== ===== ============================== =======================
RGBA   U8     B, G, R, A (uint8)              uint8 RGB or RGBA
RGBA   U16    B, G, R, A (uint16)             uint16 RGB or RGBA
RGBA   F16    R, G, B, A (half float)         float32 RGB or RGBA
RGBA   F32    R, G, B, A (float32)            float32 RGB or RGBA
GRAYA  any    gray, alpha                     1-channel gray, or RGBA
====== ===== ============================== =======================

Alpha: a layer whose alpha is fully opaque is sent without it (3 channels, or 1 for gray), so the backend runs one
pass instead of two and the result gets the same opaque alpha back. Otherwise alpha travels beside the colour (the
backend resizes it and keeps colour edges clean). Gray with real transparency goes as RGBA with the gray repeated,
and comes back as the mean of R, G and B: the backend's own rule for gray images (repeat, run, average).

Everything works on whole planes with ``bytes`` slicing (``data[i::step]``, extended slice assignment) and, for the
rounding mean, big-integer arithmetic over packed lanes; only half floats and float means need per-sample work.
"""

from __future__ import annotations

import array
import math
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .client_import import RawImage
from .errors import UnsupportedDocument

Dtype = Literal["uint8", "uint16", "float32"]
# depth → (bytes per sample in Krita, the backend's dtype)
_DEPTHS: dict[str, tuple[int, Dtype]] = {
    "U8": (1, "uint8"),
    "U16": (2, "uint16"),
    "F16": (2, "float32"),
    "F32": (4, "float32"),
}
_MODELS: dict[str, int] = {"RGBA": 4, "GRAYA": 2}
_WIRE_BYTES: dict[str, int] = {"uint8": 1, "uint16": 2, "float32": 4}
# One sample of full opacity in the backend's dtype, in the machine's byte order.
_OPAQUE: dict[str, bytes] = {
    "uint8": b"\xff",
    "uint16": b"\xff\xff",
    "float32": array.array("f", [1.0]).tobytes(),
}
# Half floats are converted this many samples at a time, so memory stays bounded on big canvases.
_CHUNK = 1 << 20
_HALF_MAX = 65504.0


@dataclass(frozen=True)
class PixelFormat:
    """A Krita colour space the plugin can upscale: ``model`` RGBA or GRAYA, ``depth`` U8, U16, F16 or F32."""

    model: str
    depth: str

    @classmethod
    def of(cls, model: str, depth: str) -> PixelFormat:
        """The format of a document or layer (``colorModel()``, ``colorDepth()``); raises ``UnsupportedDocument``."""
        if model not in _MODELS or depth not in _DEPTHS:
            raise UnsupportedDocument(
                f"LDL cannot upscale a {model} {depth} image; it works on RGB and grayscale images "
                "of 8 or 16 bits integer or 16 or 32 bits float",
                "convert the image with Image › Convert Image Color Space… to RGB/Alpha or Grayscale/Alpha, "
                "then run the upscale again",
            )
        return cls(model, depth)

    @property
    def channels(self) -> int:
        return _MODELS[self.model]

    @property
    def sample_bytes(self) -> int:
        return _DEPTHS[self.depth][0]

    @property
    def pixel_bytes(self) -> int:
        return self.channels * self.sample_bytes

    @property
    def wire_dtype(self) -> Dtype:
        """The ``RawImage`` dtype this format travels as (half floats travel as float32)."""
        return _DEPTHS[self.depth][1]

    @property
    def is_float(self) -> bool:
        return self.depth in ("F16", "F32")


def to_raw(fmt: PixelFormat, data: bytes | bytearray | memoryview, width: int, height: int) -> RawImage:
    """Krita pixel bytes (``width``×``height`` pixels of ``fmt``) → the image to upload (see the module's table).

    Raises ``ValueError`` when ``data`` does not hold that many pixels.
    """
    data = bytes(data)
    count = width * height
    if len(data) != count * fmt.pixel_bytes:
        raise ValueError(
            f"{len(data)} bytes are not {width}x{height} pixels of {fmt.model} {fmt.depth} "
            f"({count * fmt.pixel_bytes} bytes)"
        )
    if fmt.depth == "F16":
        data = half_to_float(data)
    size = _WIRE_BYTES[fmt.wire_dtype]
    opaque = _OPAQUE[fmt.wire_dtype] * count
    if fmt.model == "RGBA":
        alpha = plane(data, size, 4, 3)
        order = (0, 1, 2) if fmt.is_float else (2, 1, 0)
        if alpha == opaque:
            out, channels = interleave([plane(data, size, 4, i) for i in order], size), 3
        else:
            out, channels = (data if fmt.is_float else _swap_red_blue(data, size)), 4
    else:
        gray, alpha = plane(data, size, 2, 0), plane(data, size, 2, 1)
        if alpha == opaque:
            out, channels = gray, 1
        else:
            out, channels = interleave([gray, gray, gray, alpha], size), 4
    return RawImage.from_buffer(width, height, channels, fmt.wire_dtype, out, byteorder="native")


def from_raw(fmt: PixelFormat, image: RawImage) -> bytes:
    """A layer from the backend (1, 3 or 4 channels of ``fmt.wire_dtype``) → Krita pixel bytes of ``fmt``.

    One channel is gray (repeated into RGB), three get opaque alpha; for GRAYA, colour becomes the rounded mean of
    R, G and B. Raises ``ValueError`` for another dtype.
    """
    if image.dtype != fmt.wire_dtype:
        raise ValueError(f"a {image.dtype} layer cannot fill a {fmt.model} {fmt.depth} layer ({fmt.wire_dtype})")
    size = _WIRE_BYTES[image.dtype]
    data = native_samples(image)
    count = image.width * image.height
    channels = image.channels
    opaque = _OPAQUE[image.dtype] * count
    if fmt.model == "RGBA" and channels == 4:
        out = data if fmt.is_float else _swap_red_blue(data, size)
    else:
        planes = [plane(data, size, channels, i) for i in range(channels)]
        if fmt.model == "RGBA":
            red, green, blue = planes if channels == 3 else planes * 3
            out = interleave([red, green, blue, opaque] if fmt.is_float else [blue, green, red, opaque], size)
        else:
            gray = planes[0] if channels == 1 else mean3(planes[0], planes[1], planes[2], image.dtype)
            out = interleave([gray, planes[3] if channels == 4 else opaque], size)
    return float_to_half(out) if fmt.depth == "F16" else out


def native_samples(image: RawImage) -> bytes:
    """The image's samples in the machine's byte order (the API's are little-endian)."""
    if sys.byteorder == "little" or image.dtype == "uint8":
        return image.data
    return image.samples().tobytes()


def plane(data: bytes, size: int, channels: int, index: int) -> bytes:
    """Channel ``index`` of interleaved ``channels``-channel pixels whose samples are ``size`` bytes."""
    if channels == 1:
        return data
    if size == 1:
        return data[index::channels]
    stride = size * channels
    out = bytearray(len(data) // channels)
    for byte in range(size):
        out[byte::size] = data[index * size + byte :: stride]
    return bytes(out)


def interleave(planes: Sequence[bytes], size: int) -> bytes:
    """The inverse of ``plane``: equal-length planes of ``size``-byte samples → interleaved pixels."""
    channels = len(planes)
    if channels == 1:
        return planes[0]
    stride = size * channels
    out = bytearray(len(planes[0]) * channels)
    for index, samples in enumerate(planes):
        if size == 1:
            out[index::channels] = samples
        else:
            for byte in range(size):
                out[index * size + byte :: stride] = samples[byte::size]
    return bytes(out)


def _swap_red_blue(data: bytes, size: int) -> bytes:
    """B,G,R,A ↔ R,G,B,A for samples of ``size`` bytes (the same swap both ways)."""
    out = bytearray(data)
    stride = 4 * size
    for byte in range(size):
        out[byte::stride] = data[2 * size + byte :: stride]
        out[2 * size + byte :: stride] = data[byte::stride]
    return bytes(out)


def mean3(first: bytes, second: bytes, third: bytes, dtype: str) -> bytes:
    """The per-sample mean of three planes (machine order), rounded half up for integers.

    ``dtype``: ``uint8``, ``uint16`` or ``float32``.
    """
    if dtype == "float32":
        a, b, c = (array.array("f", p) for p in (first, second, third))
        return array.array("f", [(x + y + z) / 3.0 for x, y, z in zip(a, b, c, strict=True)]).tobytes()
    # Integers without a per-sample loop: every sample gets its own lane of one big integer (4 bytes for uint8,
    # 8 for uint16). Adding three planes and 1 never carries out of a lane, and multiplying by ceil(2**k / 3)
    # leaves floor((sum + 1) / 3) -- the mean rounded half up -- in each lane's bits from k up (k = 16 or 32;
    # exact over these ranges, and the product still fits the lane).
    size = _WIRE_BYTES[dtype]
    lane, shift, factor = (4, 2, 21846) if size == 1 else (8, 4, 1431655766)
    count = len(first) // size
    ones = int.from_bytes((b"\x01" + bytes(lane - 1)) * count, "little")
    total = _lanes(first, size, lane) + _lanes(second, size, lane) + _lanes(third, size, lane) + ones
    packed = (total * factor).to_bytes(count * lane, "little")
    out = bytearray(count * size)
    for byte in range(size):
        out[byte::size] = packed[shift + byte :: lane]
    return _little_to_native(bytes(out), size)


def _lanes(samples: bytes, size: int, lane: int) -> int:
    """Samples (machine order, ``size`` bytes each) as one little-endian integer with a ``lane``-byte slot each."""
    samples = _little_to_native(samples, size)  # the same byte swap turns machine order into little-endian
    slots = bytearray(len(samples) // size * lane)
    for byte in range(size):
        slots[byte::lane] = samples[byte::size]
    return int.from_bytes(slots, "little")


def _little_to_native(samples: bytes, size: int) -> bytes:
    """Swap 2-byte samples between little-endian and the machine's order (a no-op on little-endian machines)."""
    if size == 1 or sys.byteorder == "little":
        return samples
    swapped = array.array("H", samples)
    swapped.byteswap()
    return swapped.tobytes()


def half_to_float(data: bytes) -> bytes:
    """Half floats → float32, both in the machine's byte order."""
    count = len(data) // 2
    out = array.array("f")
    for start in range(0, count, _CHUNK):
        out.extend(struct.unpack_from(f"={min(_CHUNK, count - start)}e", data, start * 2))
    return out.tobytes()


def float_to_half(data: bytes) -> bytes:
    """float32 → half floats (rounded to nearest even), both in the machine's byte order; values beyond the half
    range become ±65504 (infinities and NaN stay)."""
    samples = array.array("f", data)
    parts: list[bytes] = []
    for start in range(0, len(samples), _CHUNK):
        chunk = samples[start : start + _CHUNK]
        try:
            parts.append(struct.pack(f"={len(chunk)}e", *chunk))
        except OverflowError:
            parts.append(struct.pack(f"={len(chunk)}e", *map(_half_range, chunk)))
    return b"".join(parts)


def _half_range(value: float) -> float:
    # Finite values past the half range make struct raise; infinities and NaN pack as they are.
    if _HALF_MAX < abs(value) < math.inf:
        return math.copysign(_HALF_MAX, value)
    return value
