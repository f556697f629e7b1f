"""What the screen shows: 8-bit RGBA buffers made from the layers, the map's colours and the mask's decoration.

Every function writes one box of a preallocated H×W×4 uint8 buffer, in row bands (cache-sized temporaries), so an
edit costs its own area and a whole 4-megapixel image costs milliseconds. The buffers are wrapped by QImages without
a copy (see ``qimage_of``), so writing a box here changes what the canvas paints next.
"""

from __future__ import annotations

import enum
from typing import cast

import cv2
import numpy as np
from qtpy.QtGui import QImage

from ldl_backend.artifacts.overlay import heat_colours
from ldl_backend.artifacts.pixel_box import PixelBox

_BAND_SAMPLES = 1 << 16
_RGBA32 = np.dtype("<u4")
# Where the mask drops detail: a cool tint that reads well over skin, sky and foliage alike.
TINT_RGB = (40, 120, 255)
TINT_MAX_ALPHA = 120
OUTLINE_RGBA = (255, 255, 255, 255)


class MaskStyle(enum.Enum):
    TINT = "tint"
    OUTLINE = "outline"
    HIDDEN = "hidden"


def new_rgba(height: int, width: int) -> np.ndarray:
    return np.zeros((height, width, 4), np.uint8)


def qimage_of(buffer: np.ndarray) -> QImage:
    """A QImage over ``buffer`` (H×W×4 uint8, C-contiguous) without copying; keep ``buffer`` alive while it is used."""
    if buffer.ndim != 3 or buffer.shape[2] != 4 or buffer.dtype != np.uint8 or not buffer.flags.c_contiguous:
        raise ValueError(f"a display buffer is H×W×4 uint8 and C-contiguous, not {buffer.shape} {buffer.dtype}")
    height, width, _ = buffer.shape
    # PyQt reads the buffer protocol without a copy (its stubs only name bytes).
    data = cast(bytes, buffer.data)
    return QImage(data, width, height, width * 4, QImage.Format.Format_RGBA8888)


def _bands(box: PixelBox) -> list[tuple[slice, slice]]:
    band = max(1, _BAND_SAMPLES // max(1, box.width))
    columns = slice(box.left, box.right)
    return [(slice(top, min(top + band, box.bottom)), columns) for top in range(box.top, box.bottom, band)]


def to_8bit(samples: np.ndarray) -> np.ndarray:
    """uint8 as is; uint16 rounded to 8 bits; float clipped to [0, 1] and rounded."""
    if samples.dtype == np.uint8:
        return samples
    if samples.dtype == np.uint16:
        return ((samples.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    scaled = np.clip(samples, 0.0, 1.0) * np.float32(255.0)
    scaled += np.float32(0.5)
    return scaled.astype(np.uint8)


def _pixels32(buffer: np.ndarray) -> np.ndarray:
    """The H×W×4 uint8 buffer as H×W 32-bit pixels (R in the low byte on every machine): one store per pixel
    instead of four strided ones, several times faster."""
    return buffer.view(_RGBA32)[:, :, 0]


def _rgba32(red: int, green: int, blue: int, alpha: int) -> np.uint32:
    return np.uint32(red | green << 8 | blue << 16 | alpha << 24)


def write_colour(colour: np.ndarray, alpha: np.ndarray | None, out: np.ndarray, box: PixelBox) -> None:
    """``out[box]`` = the image (H×W×C colour, C = 1 or 3, and optional H×W alpha of any supported dtype)."""
    conversion = cv2.COLOR_GRAY2RGBA if colour.shape[2] == 1 else cv2.COLOR_RGB2RGBA
    pixels32 = _pixels32(out)
    for rows, columns in _bands(box):
        rgba = cv2.cvtColor(np.ascontiguousarray(to_8bit(colour[rows, columns])), conversion)
        if alpha is not None:
            rgba[:, :, 3] = to_8bit(alpha[rows, columns])
        pixels32[rows, columns] = rgba.view(_RGBA32)[:, :, 0]


def heat_table() -> np.ndarray:
    """256 RGBA colours for map values 0…1: transparent where detail looks real, opaque red at likely artifacts."""
    values = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    table = np.empty((256, 4), np.uint8)
    table[:, :3] = np.round(heat_colours(values) * 255.0)
    # Clear below the base rate of likely artifacts (about 0.1 after calibration), opaque from 0.5 on: the overlay
    # points at the few places worth a look instead of tinting the whole picture.
    rise = np.clip((values - 0.05) / 0.45, 0.0, 1.0)
    table[:, 3] = np.round(rise * rise * (3.0 - 2.0 * rise) * 255.0)
    return table


def write_heat(artifact_map: np.ndarray, out: np.ndarray, box: PixelBox, table: np.ndarray) -> None:
    """``out[box]`` = the map's colours (``table`` from ``heat_table``)."""
    table32 = np.ascontiguousarray(table).view(_RGBA32)[:, 0]
    pixels32 = _pixels32(out)
    for rows, columns in _bands(box):
        index = np.clip(artifact_map[rows, columns] * np.float32(255.0) + np.float32(0.5), 0.0, 255.0)
        pixels32[rows, columns] = table32[index.astype(np.uint8)]


def write_decoration(mask: np.ndarray, out: np.ndarray, box: PixelBox, style: MaskStyle) -> PixelBox:
    """``out`` = the mask drawn as ``style`` inside ``box``; returns the box written (the outline reaches one pixel
    around ``box``, since an edge there can change too)."""
    height, width = mask.shape
    if style is MaskStyle.OUTLINE:
        box = PixelBox(box.left - 1, box.top - 1, box.right + 1, box.bottom + 1).clipped(height, width)
    pixels32 = _pixels32(out)
    tint = _rgba32(*TINT_RGB, 0)
    for rows, columns in _bands(box):
        target = pixels32[rows, columns]
        if style is MaskStyle.TINT:
            removed = np.float32(1.0) - mask[rows, columns]
            removed *= np.float32(TINT_MAX_ALPHA)
            removed += np.float32(0.5)
            np.left_shift(removed.astype(_RGBA32), 24, out=target)
            target |= tint
        elif style is MaskStyle.OUTLINE:
            target[...] = 0
            target[_edges(mask, rows, columns)] = _rgba32(*OUTLINE_RGBA)
        else:
            target[...] = 0
    return box


def _edges(mask: np.ndarray, rows: slice, columns: slice) -> np.ndarray:
    """Pixels of the band on the edge of the kept region (mask ≥ 0.5) that have a neighbour outside it."""
    height, width = mask.shape
    top, bottom = max(0, rows.start - 1), min(height, rows.stop + 1)
    left, right = max(0, columns.start - 1), min(width, columns.stop + 1)
    kept = mask[top:bottom, left:right] >= 0.5
    padded = np.pad(kept, 1, mode="edge")
    differs = np.zeros_like(kept)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        differs |= padded[dy : dy + kept.shape[0], dx : dx + kept.shape[1]] != kept
    edge = differs & kept
    return edge[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left]
