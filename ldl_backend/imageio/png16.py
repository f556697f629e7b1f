"""16-bit PNG through OpenCV (libpng), because Pillow reads and writes 16-bit RGB(A) as 8 bits.

OpenCV cannot encode gray+alpha, so that one layout is encoded here (zlib with the PNG "Up" filter). OpenCV
writes no colour profile, EXIF or resolution; those chunks are inserted after IHDR.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import cv2
import numpy as np

from ldl_backend.imageio.png_chunks import (
    COLOUR_GRAY_ALPHA,
    PNG_SIGNATURE,
    PngHeader,
    build_chunk,
    exif_chunk,
    iccp_chunk,
    insert_after_ihdr,
    phys_chunk,
)

_IDAT_PIECE = 1 << 23  # bytes of compressed data per IDAT chunk


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


def encode_png16(
    colour: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    dpi: tuple[float, float] | None = None,
) -> bytes:
    """A 16-bit PNG of uint16 ``colour`` (H×W×1 or H×W×3) and ``alpha`` (H×W or None), with the metadata chunks."""
    if colour.shape[2] == 1 and alpha is not None:
        png = _encode_gray_alpha(colour[:, :, 0], alpha)
    else:
        planes = colour[:, :, ::-1] if colour.shape[2] == 3 else colour[:, :, 0]
        if alpha is not None:
            planes = np.dstack([planes, alpha])
        ok, encoded = cv2.imencode(".png", np.ascontiguousarray(planes), [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if not ok:
            raise ValueError("OpenCV could not encode the 16-bit PNG")
        png = encoded.tobytes()
    chunks: list[bytes] = []
    if icc_profile:
        chunks.append(iccp_chunk(icc_profile))
    if exif:
        chunks.append(exif_chunk(exif))
    if dpi:
        chunks.append(phys_chunk(dpi))
    return insert_after_ihdr(png, chunks) if chunks else png


def _encode_gray_alpha(gray: np.ndarray, alpha: np.ndarray) -> bytes:
    height, width = gray.shape
    rows = np.dstack([gray, alpha]).astype(">u2").view(np.uint8).reshape(height, width * 4)
    # "Up" filter: each byte minus the byte above it, modulo 256 (uint8 arithmetic wraps).
    filtered = rows.copy()
    filtered[1:] -= rows[:-1]
    scanlines = np.hstack([np.full((height, 1), 2, np.uint8), filtered])
    compressed = zlib.compress(scanlines.tobytes(), 6)
    ihdr = struct.pack(">IIBBBBB", width, height, 16, COLOUR_GRAY_ALPHA, 0, 0, 0)
    return b"".join([PNG_SIGNATURE, build_chunk(b"IHDR", ihdr), *_idat_chunks(compressed), build_chunk(b"IEND", b"")])


def _idat_chunks(compressed: bytes) -> Iterator[bytes]:
    for start in range(0, len(compressed), _IDAT_PIECE):
        yield build_chunk(b"IDAT", compressed[start : start + _IDAT_PIECE])
