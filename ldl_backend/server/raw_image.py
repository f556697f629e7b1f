"""``application/x-ldl-raw`` bodies as numpy arrays. The format itself (headers, dtypes, byte order) is the
client's ``RawHeader``: this module only turns its bytes into arrays and back, and applies the server's budget."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ldl_backend.imageio import ImageData
from ldl_backend.server.errors import ApiError, bad_request
from ldl_client.raw_image import RAW_CONTENT_TYPE, RawHeader, RawHeaderError

RAW_TYPE = RAW_CONTENT_TYPE
# The format's dtypes, little-endian on the wire.
_DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "float32": np.dtype("<f4")}
# Samples checked for NaN at a time: the boolean temporary stays at 1 MiB whatever the image.
_CHECK_SAMPLES = 1 << 20


def parse_header(headers: Mapping[str, str], max_pixels: int) -> RawHeader:
    """The ``X-Ldl-*`` headers, checked (pixel budget included) before any pixel is touched."""
    try:
        header = RawHeader.from_headers(headers)
    except RawHeaderError as error:
        raise bad_request(error.message, error.hint) from error
    if header.pixels > max_pixels:
        raise ApiError(
            422,
            "image_too_large",
            f"{header.width}×{header.height} is more than the limit of {max_pixels:,} pixels",
            "crop or downscale the image first",
        )
    return header


def check_body(header: RawHeader, body: bytes) -> None:
    """400 when the body's length does not match the headers or float32 samples are not finite. Reads the bytes in
    place (a slice at a time), so checking costs no copy of the image."""
    if len(body) != header.byte_count:
        raise bad_request(
            f"the raw body has {len(body):,} bytes; {header.width}×{header.height}×{header.channels} {header.dtype} "
            f"needs {header.byte_count:,}",
            "send the pixels interleaved, row by row, with no padding",
        )
    if header.dtype == "float32":
        samples = np.frombuffer(body, dtype=_DTYPES["float32"])
        for start in range(0, samples.size, _CHECK_SAMPLES):
            if not np.isfinite(samples[start : start + _CHECK_SAMPLES]).all():
                raise bad_request("the raw float32 pixels contain NaN or infinity", "send finite values")


def decode_pixels(header: RawHeader, body: bytes) -> np.ndarray:
    """H×W×C array in native byte order; 400 for a body ``check_body`` refuses."""
    check_body(header, body)
    dtype = _DTYPES[header.dtype]
    pixels = np.frombuffer(body, dtype=dtype).reshape(header.height, header.width, header.channels)
    return pixels.astype(dtype.newbyteorder("="))


def decode_image(header: RawHeader, body: bytes) -> ImageData:
    pixels = decode_pixels(header, body)
    if header.channels == 4:
        return ImageData(np.ascontiguousarray(pixels[..., :3]), np.ascontiguousarray(pixels[..., 3]))
    return ImageData(pixels)


def encode(pixels: np.ndarray) -> tuple[bytes, RawHeader]:
    """H×W×C (or H×W) uint8/uint16/float32 → little-endian bytes and their header."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    name = {np.dtype(np.uint8): "uint8", np.dtype(np.uint16): "uint16", np.dtype(np.float32): "float32"}[pixels.dtype]
    data = np.ascontiguousarray(pixels, dtype=_DTYPES[name]).tobytes()
    return data, RawHeader(int(pixels.shape[1]), int(pixels.shape[0]), int(pixels.shape[2]), name)
