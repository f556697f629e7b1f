"""Krita's pixel data and the backend's raw layers as comparable samples (standard library only: Krita's Python
has no numpy).

Krita hands out integer RGBA as B, G, R, A and float RGBA as R, G, B, A, in the machine's byte order; masks and
selections as one byte per pixel. The backend's raw layers are R, G, B(, A) or one gray channel, little-endian.
"""

from __future__ import annotations

import array
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass

# Krita's colorDepth() -> (struct/array code, largest value of an integer sample or 1.0 for floats).
DEPTHS: dict[str, tuple[str, float]] = {"U8": ("B", 255.0), "U16": ("H", 65535.0), "F16": ("e", 1.0), "F32": ("f", 1.0)}
# How far the plugin's pixels may be from the backend's, in units of full scale (issue 8: 1/255 for 8-bit,
# 2/65535 for 16-bit). Float documents get the 16-bit bound; half floats hold ~11 significant bits.
TOLERANCE: dict[str, float] = {"U8": 1 / 255, "U16": 2 / 65535, "F16": 1 / 1024, "F32": 2 / 65535}
# The backend's dtype -> its full scale.
RAW_SCALE: dict[str, float] = {"uint8": 255.0, "uint16": 65535.0, "float32": 1.0}


def krita_rgba(data: bytes, depth: str) -> list[float]:
    """Krita's ``pixelData`` of an RGBA layer as R, G, B, A samples in [0, 1] (floats may stray outside)."""
    code, scale = DEPTHS[depth]
    if code == "e":
        samples: Sequence[float] = struct.unpack(f"={len(data) // 2}e", data)
    else:
        samples = array.array(code, data)
    values = [sample / scale for sample in samples]
    if depth in ("U8", "U16"):  # B, G, R, A -> R, G, B, A
        values[0::4], values[2::4] = values[2::4], values[0::4]
    return values


def krita_mask(data: bytes, pixels: int) -> list[float]:
    """A mask's or selection's ``pixelData`` as values in [0, 1], whatever its sample size (Krita 5: one byte)."""
    size = len(data) // pixels if pixels else 0
    if size == 1:
        return [value / 255.0 for value in data]
    if size == 2:
        return [value / 65535.0 for value in array.array("H", data)]
    if size == 4:
        return list(array.array("f", data))
    raise AssertionError(f"a mask of {len(data)} bytes for {pixels} pixels: not 1, 2 or 4 bytes a pixel")


def raw_values(data: bytes, dtype: str) -> list[float]:
    """The backend's little-endian raw samples in [0, 1] (``RawImage.data`` with its ``dtype``)."""
    samples = array.array({"uint8": "B", "uint16": "H", "float32": "f"}[dtype], data)
    if sys.byteorder == "big" and dtype != "uint8":
        samples.byteswap()
    scale = RAW_SCALE[dtype]
    return [sample / scale for sample in samples]


def as_rgba(values: list[float], channels: int) -> list[float]:
    """Gray, RGB or RGBA samples as RGBA (opaque where there is no alpha)."""
    if channels == 4:
        return values
    rgba = [1.0] * (len(values) // channels * 4)
    for channel in range(3):
        rgba[channel::4] = values[(channel if channels == 3 else 0) :: channels]
    return rgba


@dataclass(frozen=True)
class Difference:
    worst: float  # the largest absolute difference
    at: tuple[int, int, int]  # x, y, channel of the worst one
    over: int  # how many samples are farther apart than the tolerance
    expected: float  # the two samples at the worst place
    actual: float

    def describe(self, tolerance: float) -> str:
        x, y, channel = self.at
        return (
            f"{self.over} samples differ by more than {tolerance:.3g}; worst {self.worst:.4g} at x={x}, y={y}, "
            f"channel {channel}: expected {self.expected:.6g}, got {self.actual:.6g}"
        )


def difference(
    expected: Sequence[float], actual: Sequence[float], width: int, channels: int, tolerance: float
) -> Difference:
    """Compare sample by sample; raises ``AssertionError`` when the lengths differ."""
    assert len(expected) == len(actual), f"{len(actual)} samples where {len(expected)} were expected"
    worst, where, over = -1.0, 0, 0
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        gap = abs(want - got)
        if gap > worst:
            worst, where = gap, index
        if gap > tolerance + 1e-9:
            over += 1
    pixel, channel = divmod(where, channels)
    at = (pixel % width, pixel // width, channel)
    return Difference(max(worst, 0.0), at, over, expected[where] if expected else 0.0, actual[where] if actual else 0.0)
