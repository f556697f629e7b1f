"""EXIF orientation: read it, apply it to pixel arrays, and reset it to 1 in the EXIF bytes we keep.

The reset patches the one value in place instead of re-serialising the EXIF block, so maker notes and other
offset-based data stay byte-for-byte intact.
"""

from __future__ import annotations

import struct

import numpy as np

_EXIF_PREFIX = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112
_SHORT, _LONG = 3, 4


def _orientation_entry(exif: bytes) -> tuple[int, str, int] | None:
    """(offset of the value, struct byte order, field type) of the orientation tag in IFD0, or None."""
    base = len(_EXIF_PREFIX) if exif.startswith(_EXIF_PREFIX) else 0
    order_mark = exif[base : base + 2]
    if order_mark not in (b"II", b"MM"):
        return None
    order = "<" if order_mark == b"II" else ">"
    try:
        magic, ifd_offset = struct.unpack_from(order + "HI", exif, base + 2)
        if magic != 42:
            return None
        (count,) = struct.unpack_from(order + "H", exif, base + ifd_offset)
        for index in range(count):
            entry = base + ifd_offset + 2 + 12 * index
            tag, field_type, value_count = struct.unpack_from(order + "HHI", exif, entry)
            if tag == _ORIENTATION_TAG and field_type in (_SHORT, _LONG) and value_count == 1:
                return entry + 8, order, field_type
    except struct.error:  # offsets pointing past the end: treat as no orientation
        return None
    return None


def exif_orientation(exif: bytes | None) -> int:
    """The EXIF orientation (1–8) in ``exif`` (with or without the "Exif\\0\\0" prefix); 1 when absent or invalid."""
    if not exif:
        return 1
    found = _orientation_entry(exif)
    if found is None:
        return 1
    offset, order, field_type = found
    (value,) = struct.unpack_from(order + ("H" if field_type == _SHORT else "I"), exif, offset)
    return value if 1 <= value <= 8 else 1


def reset_orientation(exif: bytes) -> bytes:
    """``exif`` with the orientation set to 1 (top-left); unchanged when it has no orientation tag."""
    found = _orientation_entry(exif)
    if found is None:
        return exif
    offset, order, field_type = found
    patched = bytearray(exif)
    struct.pack_into(order + ("H" if field_type == _SHORT else "I"), patched, offset, 1)
    return bytes(patched)


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """(width, height) after applying ``orientation``: orientations 5–8 swap the axes."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an H×W or H×W×C array stored with EXIF ``orientation`` upright (the way viewers show it).

    Returns a C-contiguous array (a copy unless ``orientation`` is 1).
    """
    if orientation == 2:  # mirrored horizontally
        turned = pixels[:, ::-1]
    elif orientation == 3:  # rotated 180°
        turned = pixels[::-1, ::-1]
    elif orientation == 4:  # mirrored vertically
        turned = pixels[::-1]
    elif orientation == 5:  # mirrored along the main diagonal
        turned = pixels.swapaxes(0, 1)
    elif orientation == 6:  # stored rotated 90° counter-clockwise: turn it clockwise
        turned = np.rot90(pixels, k=-1)
    elif orientation == 7:  # mirrored along the anti-diagonal
        turned = np.rot90(pixels, k=2).swapaxes(0, 1)
    elif orientation == 8:  # stored rotated 90° clockwise: turn it counter-clockwise
        turned = np.rot90(pixels, k=1)
    else:
        return pixels
    return np.ascontiguousarray(turned)
