"""Comparing GIMP's pixels with the backend's layers, as floats (0–1 for integers), with a tolerance per precision."""

from __future__ import annotations

import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# How far a stored sample may be from the backend's: one rounding step of the storage (linear 8-bit: its coarsest
# step near black, seen through the sRGB curve), a little more for half floats.
TOLERANCE = {
    "U8_NON_LINEAR": 0.6 / 255,
    "U8_PERCEPTUAL": 0.6 / 255,
    "U8_LINEAR": 0.05,
    "U16_PERCEPTUAL": 1.0 / 65535,
    "U16_NON_LINEAR": 1.0 / 65535,
    "HALF_PERCEPTUAL": 2e-3,
    "FLOAT_LINEAR": 1e-4,
}
# Layer masks and the selection are linear gray in the image's storage: 8-bit masks round to 1/255.
MASK_TOLERANCE = {"U8_NON_LINEAR": 0.6 / 255, "U8_LINEAR": 0.6 / 255, "U16_PERCEPTUAL": 1 / 65535}
_SCALES = {"uint8": 255.0, "uint16": 65535.0, "float32": 1.0}


def backend_floats(raw: Any) -> array.array:
    """A raw layer's samples as floats, integers scaled to 0–1."""
    scale = _SCALES[raw.dtype]
    samples = raw.samples()
    return array.array("f", [value / scale for value in samples]) if scale != 1.0 else samples


@dataclass(frozen=True)
class Difference:
    worst: float
    at: int
    over: int
    count: int

    def describe(self, tolerance: float) -> str:
        return (
            f"{self.over} of {self.count} samples differ by more than {tolerance:g} (worst {self.worst:g} at {self.at})"
        )


def difference(expected: Sequence[float], actual: Sequence[float], tolerance: float) -> Difference:
    assert len(expected) == len(actual), f"{len(expected)} samples expected, {len(actual)} found"
    worst, at, over = 0.0, -1, 0
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        gap = abs(want - got)
        if gap > tolerance:
            over += 1
        if gap > worst:
            worst, at = gap, index
    return Difference(worst, at, over, len(expected))


def channel_means(values: Sequence[float], channels: int) -> list[float]:
    count = len(values) // channels
    return [sum(values[index::channels]) / count for index in range(channels)]
