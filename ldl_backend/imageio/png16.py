"""Decoding 16-bit PNG through OpenCV (libpng), because Pillow reads 16-bit RGB(A) as 8 bits.

Writing goes through ``png_stream`` for every bit depth.
"""

from __future__ import annotations

import cv2
import numpy as np

from ldl_backend.imageio.png_chunks import COLOUR_GRAY_ALPHA, PngHeader


def decode_png16(data: bytes, header: PngHeader) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour (H×W×1 or H×W×3) and alpha (H×W or None), both uint16, of a 16-bit gray+alpha, RGB or RGBA PNG.

    An RGB PNG with a transparent colour key (tRNS) comes back with alpha (0 where the key matched, else 65535).
    Raises ValueError when OpenCV cannot decode the data or returns something other than the header promises.
    """
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ValueError("OpenCV could not decode the 16-bit PNG data")
    expected = (header.height, header.width)
    if decoded.dtype != np.uint16 or decoded.ndim != 3 or decoded.shape[:2] != expected:
        raise ValueError(f"OpenCV decoded {decoded.shape} {decoded.dtype}, the header says {expected} 16-bit")
    # OpenCV gives BGR / BGRA; gray+alpha arrives as BGRA with the gray value in all three colour channels.
    alpha = np.ascontiguousarray(decoded[:, :, 3]) if decoded.shape[2] == 4 else None
    if header.colour_type == COLOUR_GRAY_ALPHA:
        colour = np.ascontiguousarray(decoded[:, :, :1])
    else:
        colour = np.ascontiguousarray(decoded[:, :, 2::-1])
    return colour, alpha
