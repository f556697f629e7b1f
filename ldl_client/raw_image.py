"""Uncompressed pixels as the API's ``application/x-ldl-raw`` body: interleaved channels, little-endian samples."""

from __future__ import annotations

import array
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import ProtocolError

Dtype = Literal["uint8", "uint16", "float32"]
RAW_CONTENT_TYPE = "application/x-ldl-raw"

# Bytes per sample, and the array module's typecode for each dtype ("H" is 2 bytes and "f" 4 on every CPython).
ITEMSIZE: dict[str, int] = {"uint8": 1, "uint16": 2, "float32": 4}
_TYPECODE: dict[str, str] = {"uint8": "B", "uint16": "H", "float32": "f"}
CHANNEL_COUNTS = (1, 3, 4)
_HEADERS = ("X-Ldl-Width", "X-Ldl-Height", "X-Ldl-Channels", "X-Ldl-Dtype")
_SEND_HINT = "send X-Ldl-Width, X-Ldl-Height, X-Ldl-Channels and X-Ldl-Dtype with a raw body"


class RawHeaderError(ValueError):
    """``X-Ldl-*`` headers that do not describe a raw image; ``hint`` says what they must be."""

    def __init__(self, message: str, hint: str = _SEND_HINT) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class RawHeader:
    """What the ``X-Ldl-*`` headers of a raw body say: ``height`` rows of ``width`` pixels of ``channels`` samples
    of ``dtype``. Raises ``RawHeaderError`` when built with values outside the format."""

    width: int
    height: int
    channels: int
    dtype: str

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise RawHeaderError(f"image size {self.width}x{self.height} is empty; width and height must be at least 1")
        if self.channels not in CHANNEL_COUNTS:
            raise RawHeaderError(f"{self.channels} channels is not supported; use 1 (gray), 3 (RGB) or 4 (RGBA)")
        if self.dtype not in ITEMSIZE:
            raise RawHeaderError(f"dtype {self.dtype!r} is not supported; use one of {', '.join(ITEMSIZE)}")

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def byte_count(self) -> int:
        """The length of the body these headers describe: interleaved, row by row, no padding."""
        return self.pixels * self.channels * ITEMSIZE[self.dtype]

    def headers(self) -> dict[str, str]:
        """The request/response headers that describe a body of this shape."""
        return {
            "Content-Type": RAW_CONTENT_TYPE,
            "X-Ldl-Width": str(self.width),
            "X-Ldl-Height": str(self.height),
            "X-Ldl-Channels": str(self.channels),
            "X-Ldl-Dtype": self.dtype,
        }

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RawHeader:
        """Read the ``X-Ldl-*`` headers (names matched case-insensitively). Raises ``RawHeaderError``."""
        lowered = {key.lower(): value for key, value in headers.items()}
        sizes: list[int] = []
        for name in _HEADERS[:3]:
            text = lowered.get(name.lower())
            # isascii: str.isdigit() also accepts '²', which int() refuses; 9 digits keep the product in range.
            if text is None or not (text.isascii() and text.isdigit()) or len(text) > 9:
                raise RawHeaderError(f"{name} must be a positive integer, not {text!r}")
            sizes.append(int(text))
        return cls(sizes[0], sizes[1], sizes[2], lowered.get("x-ldl-dtype", ""))


@dataclass(frozen=True)
class RawImage:
    """``height`` rows of ``width`` pixels of ``channels`` (1 gray, 3 RGB, 4 RGBA) samples of ``dtype``.

    ``data`` holds ``width * height * channels`` samples, row-major, channels interleaved, little-endian
    (uint8 in [0, 255], uint16 in [0, 65535], float32 nominally in [0, 1]). Raises ``ValueError`` when the
    fields do not describe ``data``.
    """

    width: int
    height: int
    channels: int
    dtype: str
    data: bytes

    def __post_init__(self) -> None:
        expected = self.header.byte_count
        if len(self.data) != expected:
            raise ValueError(
                f"{len(self.data)} bytes do not hold a {self.width}x{self.height}x{self.channels} {self.dtype} "
                f"image ({expected} bytes); check the size, channel count and dtype"
            )

    @classmethod
    def from_buffer(
        cls,
        width: int,
        height: int,
        channels: int,
        dtype: Dtype,
        buffer: bytes | bytearray | memoryview,
        *,
        byteorder: Literal["little", "big", "native"] = "little",
    ) -> RawImage:
        """Copy ``buffer`` (e.g. a host's pixel data or ``numpy.ndarray.tobytes()``) whose samples use ``byteorder``.

        Hosts hand out samples in the machine's order; ``byteorder="native"`` converts them to the API's
        little-endian order on any machine.
        """
        data = bytes(buffer)
        if byteorder == "native":
            byteorder = "little" if sys.byteorder == "little" else "big"
        if byteorder == "big" and dtype != "uint8":
            samples = array.array(_TYPECODE[dtype], data)
            samples.byteswap()
            data = samples.tobytes()
        return cls(width, height, channels, dtype, data)

    @classmethod
    def from_samples(cls, width: int, height: int, channels: int, dtype: Dtype, samples: array.array) -> RawImage:
        """Build from an ``array.array`` of samples in the machine's order (typecode ``B``, ``H`` or ``f``)."""
        if samples.typecode != _TYPECODE[dtype]:
            raise ValueError(
                f"a {dtype} image needs an array of typecode {_TYPECODE[dtype]!r}, not {samples.typecode!r}"
            )
        return cls.from_buffer(width, height, channels, dtype, samples.tobytes(), byteorder="native")

    def samples(self) -> array.array:
        """The samples as an ``array.array`` in the machine's order (typecode ``B``, ``H`` or ``f``)."""
        samples = array.array(_TYPECODE[self.dtype], self.data)
        if sys.byteorder == "big" and self.dtype != "uint8":
            samples.byteswap()
        return samples

    @property
    def header(self) -> RawHeader:
        return RawHeader(self.width, self.height, self.channels, self.dtype)

    def headers(self) -> dict[str, str]:
        """The request/response headers that describe this body."""
        return self.header.headers()

    @classmethod
    def from_headers(cls, headers: Mapping[str, str], data: bytes) -> RawImage:
        """Read a raw body from its ``X-Ldl-*`` headers (keys matched case-insensitively). Raises ``ProtocolError``."""
        try:
            header = RawHeader.from_headers(headers)
            return cls(header.width, header.height, header.channels, header.dtype, data)
        except ValueError as e:
            lowered = {key.lower(): value for key, value in headers.items()}
            shown = ", ".join(f"{name}={lowered.get(name.lower())}" for name in _HEADERS)
            raise ProtocolError(
                f"the server sent a raw image this client cannot read ({shown}): {e}",
                "the server and this client may be different versions; update LDL Studio so both match",
            ) from e
