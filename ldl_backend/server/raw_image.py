"""``application/x-ldl-raw``: interleaved pixels described by ``X-Ldl-*`` headers, little-endian."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ldl_backend.imageio import ImageData
from ldl_backend.server.errors import ApiError, bad_request

RAW_TYPE = "application/x-ldl-raw"
_DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"), "float32": np.dtype("<f4")}


@dataclass(frozen=True)
class RawHeader:
    width: int
    height: int
    channels: int
    dtype: str

    def as_headers(self) -> dict[str, str]:
        return {
            "X-Ldl-Width": str(self.width),
            "X-Ldl-Height": str(self.height),
            "X-Ldl-Channels": str(self.channels),
            "X-Ldl-Dtype": self.dtype,
        }


def parse_header(headers: Mapping[str, str], max_pixels: int) -> RawHeader:
    """The ``X-Ldl-*`` headers, checked (pixel budget included) before any pixel is touched."""
    values: dict[str, int] = {}
    for name in ("width", "height", "channels"):
        text = headers.get(f"x-ldl-{name}")
        # isascii: str.isdigit() also accepts '²', which int() refuses.
        if text is None or not (text.isascii() and text.isdigit()) or len(text) > 9:
            raise bad_request(
                f"X-Ldl-{name.capitalize()} must be a positive integer, not {text!r}",
                "send X-Ldl-Width, X-Ldl-Height, X-Ldl-Channels and X-Ldl-Dtype with a raw body",
            )
        values[name] = int(text)
    dtype = headers.get("x-ldl-dtype", "")
    if dtype not in _DTYPES:
        raise bad_request(f"X-Ldl-Dtype must be uint8, uint16 or float32, not {dtype!r}")
    if values["channels"] not in (1, 3, 4):
        raise bad_request(f"X-Ldl-Channels must be 1, 3 or 4, not {values['channels']}")
    if values["width"] < 1 or values["height"] < 1:
        raise bad_request("X-Ldl-Width and X-Ldl-Height must be at least 1")
    if values["width"] * values["height"] > max_pixels:
        raise ApiError(
            422,
            "image_too_large",
            f"{values['width']}×{values['height']} is more than the limit of {max_pixels:,} pixels",
            "crop or downscale the image first",
        )
    return RawHeader(values["width"], values["height"], values["channels"], dtype)


def decode_pixels(header: RawHeader, body: bytes) -> np.ndarray:
    """H×W×C array in native byte order; 400 when the body's length does not match the headers."""
    dtype = _DTYPES[header.dtype]
    expected = header.width * header.height * header.channels * dtype.itemsize
    if len(body) != expected:
        raise bad_request(
            f"the raw body has {len(body):,} bytes; {header.width}×{header.height}×{header.channels} {header.dtype} "
            f"needs {expected:,}",
            "send the pixels interleaved, row by row, with no padding",
        )
    pixels = np.frombuffer(body, dtype=dtype).reshape(header.height, header.width, header.channels)
    pixels = pixels.astype(dtype.newbyteorder("="))
    if pixels.dtype.kind == "f" and not np.isfinite(pixels).all():
        raise bad_request("the raw float32 pixels contain NaN or infinity", "send finite values")
    return pixels


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
