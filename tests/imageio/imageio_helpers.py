"""Builders for test inputs, made independently of the code under test (Pillow, OpenCV, tifffile, raw bytes)."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms


def gradient(height: int, width: int, channels: int, dtype: type[np.generic], seed: int = 0) -> np.ndarray:
    """Seeded samples over an unsigned dtype's full range (float: -0.25..1.5, so out-of-range values are tested)."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        values = rng.uniform(-0.25, 1.5, (height, width, channels))
    else:
        top = 2 ** (8 * np.dtype(dtype).itemsize) - 1  # unsigned types only
        values = rng.integers(0, top, (height, width, channels), endpoint=True)
    return values.astype(dtype)


@functools.cache
def srgb_icc() -> bytes:
    # LittleCMS stamps the creation time into the header: one profile per run, or two calls a second apart differ.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def write_cv2_png(path: Path, rgb: np.ndarray) -> Path:
    """Write an H×W×{1,3,4} array given in RGB(A) order as PNG through OpenCV (which keeps 16 bits)."""
    if rgb.shape[2] == 1:
        planes = rgb[:, :, 0]
    elif rgb.shape[2] == 3:
        planes = rgb[:, :, ::-1]
    else:
        planes = rgb[:, :, [2, 1, 0, 3]]
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(planes))
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes, extra: bytes = b"") -> bytes:
    """A PNG assembled byte by byte: ``rows`` is the unfiltered scanline data (filter bytes are added here)."""
    stride = len(rows) // height
    scanlines = b"".join(b"\x00" + rows[y * stride : (y + 1) * stride] for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
        + extra
        + chunk(b"IDAT", zlib.compress(scanlines))
        + chunk(b"IEND", b"")
    )


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunk_types(data: bytes) -> list[bytes]:
    """Chunk types in order, parsed independently of ldl_backend.imageio.png_chunks."""
    types, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        types.append(data[position + 4 : position + 8])
        position += 12 + length
    return types


def exif_with_orientation(orientation: int, make: str = "LDL test camera") -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = make
    return exif.tobytes()


def pillow_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def cmyk_icc_profile() -> bytes:
    """A minimal ICC v2 CMYK output profile (A2B0 as an 8-bit LUT to Lab) that LittleCMS accepts.

    Its inks are deliberately lighter than Pillow's naive CMYK formula, so a test can tell which path ran.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def lab(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
        lightness = 100 * (1 - 0.5 * k) * (1 - 0.3 * c) * (1 - 0.3 * m) * (1 - 0.1 * y)
        return lightness, 60 * m - 40 * c, 70 * y - 40 * c

    grid = bytearray()
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    lightness, a, b = lab(c, m, y, k)
                    grid += bytes([round(lightness * 255 / 100), round(a + 128), round(b + 128)])
    identity = b"".join(s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    a2b0 = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + identity + bytes(range(256)) * 4 + bytes(grid)
    a2b0 += bytes(range(256)) * 3
    text = b"test CMYK\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8) + bytes(3) + bytes(67)
    white = b"XYZ " + bytes(4) + s15(0.9642) + s15(1.0) + s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", white), (b"cprt", b"text" + bytes(4) + b"none\x00"), (b"A2B0", a2b0)]
    table, body = b"", b""
    start = 128 + 4 + 12 * len(tags)
    for signature, data in tags:
        body += bytes(-(start + len(body)) % 4)
        table += signature + struct.pack(">II", start + len(body), len(data))
        body += data
    size = start + len(body)
    header = struct.pack(">I", size) + bytes(4) + struct.pack(">I", 0x02100000) + b"prtrCMYKLab " + bytes(12)
    header += b"acsp" + bytes(24) + bytes(4) + s15(0.9642) + s15(1.0) + s15(0.8249) + bytes(48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
