"""The backend's float maps → Krita's 8-bit transparency mask and the gray artifact-map layer; the selection merge.

Krita keeps a transparency mask (like any selection) as one byte per pixel, 0 = hidden and 255 = shown; the
backend's ``mask`` layer is float32 in [0, 1] with 1 = keep the detail, so white keeps detail here too. Standard
library only; quantising floats has no slicing trick, so it is one pass of a comprehension (about 0.1 µs a pixel).
"""

from __future__ import annotations

import array
import math

from .client_import import RawImage
from .pixels import PixelFormat, from_raw


def unit_to_u8(samples: array.array) -> bytes:
    """Float samples in [0, 1] → bytes round(v·255), half up; values outside (and NaN, as 0) are clamped."""
    if _in_unit_range(samples):
        return bytes([int(v * 255.0 + 0.5) for v in samples])
    return bytes([int(_unit(v) * 255.0 + 0.5) for v in samples])


def unit_to_u16(samples: array.array) -> bytes:
    """Float samples in [0, 1] → uint16 round(v·65535), half up, in the machine's byte order; clamped like
    ``unit_to_u8``."""
    values = samples if _in_unit_range(samples) else array.array("f", [_unit(v) for v in samples])
    return array.array("H", [int(v * 65535.0 + 0.5) for v in values]).tobytes()


def mask_bytes(mask: RawImage) -> bytes:
    """The backend's ``mask`` layer (1 channel float32, 1 = keep detail) → transparency-mask bytes (255 = keep)."""
    return unit_to_u8(_gray_floats(mask, "mask"))


def map_pixels(fmt: PixelFormat, artifact_map: RawImage) -> bytes:
    """The backend's ``map`` layer (1 channel float32, 1 = likely artifact) → an opaque gray layer of ``fmt``."""
    values = _gray_floats(artifact_map, "map")
    if fmt.wire_dtype == "uint8":
        data = unit_to_u8(values)
    elif fmt.wire_dtype == "uint16":
        data = unit_to_u16(values)
    else:
        data = values.tobytes()
    gray = RawImage.from_buffer(artifact_map.width, artifact_map.height, 1, fmt.wire_dtype, data, byteorder="native")
    return from_raw(fmt, gray)


def merge_max(mask: bytes, selection: bytes) -> bytes:
    """Per byte, the larger of the mask and the selection's coverage: white inside the selection, feathered edges
    only ever adding detail, the mask left as it was where nothing is selected."""
    if len(mask) != len(selection):
        raise ValueError(f"the mask has {len(mask)} pixels and the selection {len(selection)}; they must match")
    return bytes(map(max, mask, selection))


def _gray_floats(image: RawImage, what: str) -> array.array:
    if image.channels != 1 or image.dtype != "float32":
        raise ValueError(f"the {what} layer must be 1 channel of float32, not {image.channels} of {image.dtype}")
    return image.samples()


def _in_unit_range(samples: array.array) -> bool:
    # All in C: min/max can step over a NaN, but a NaN anywhere makes the sum NaN.
    return not samples or (min(samples) >= 0.0 and max(samples) <= 1.0 and not math.isnan(sum(samples)))


def _unit(value: float) -> float:
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))
