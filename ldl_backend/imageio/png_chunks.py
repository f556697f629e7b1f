"""PNG chunk structure: walk the chunks (checking that the file is complete), build chunks, insert them.

Used to read the header and metadata of a PNG without decoding it, to refuse truncated files that a decoder would
accept, and to add colour profile, EXIF and resolution to the 16-bit PNGs OpenCV writes without them.
A chunk is length (4 bytes, big-endian) + type (4) + data + CRC-32 of type and data (4).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_GRAY, COLOUR_RGB, COLOUR_PALETTE, COLOUR_GRAY_ALPHA, COLOUR_RGBA = 0, 2, 3, 4, 6  # IHDR colour types
_EXIF_PREFIX = b"Exif\x00\x00"
_METRES_PER_INCH = 0.0254
_PNG_UINT_MAX = 0x7FFFFFFF  # a PNG "unsigned integer" (chunk length, pHYs density) is at most 2**31 - 1


class PngStructureError(ValueError):
    """The bytes are not a complete, intact PNG chunk sequence."""


@dataclass(frozen=True)
class PngChunk:
    """``data`` is empty for chunks the caller asked to skip."""

    type: bytes
    data: bytes
    offset: int


@dataclass(frozen=True)
class PngHeader:
    """The IHDR fields. ``colour_type``: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool


def iter_chunks(stream: BinaryIO, *, only: Collection[bytes] | None = None) -> Iterator[PngChunk]:
    """Yield the chunks of a PNG from its signature to IEND inclusive.

    With ``only``, the data of other chunk types is seeked over, not read (so a header probe stays cheap), and
    comes back empty with its CRC unchecked; every chunk read has its CRC checked. Raises PngStructureError when
    the signature is wrong, a chunk is cut short, a CRC does not match, or the file ends before IEND.
    """
    if stream.read(8) != PNG_SIGNATURE:
        raise PngStructureError("no PNG signature")
    while True:
        offset = stream.tell()
        head = stream.read(8)
        if len(head) < 8:
            raise PngStructureError(f"file ends at byte {offset} before the IEND chunk (truncated)")
        length, kind = struct.unpack(">I4s", head)
        if length > _PNG_UINT_MAX:
            raise PngStructureError(f"chunk at byte {offset} claims an impossible length {length}")
        skipped = only is not None and kind not in only and kind != b"IEND"
        if skipped:
            stream.seek(length, 1)
            data = b""
        else:
            data = stream.read(length)
            if len(data) < length:
                raise PngStructureError(f"{kind!r} chunk at byte {offset} is cut short (truncated)")
        crc = stream.read(4)
        if len(crc) < 4:
            raise PngStructureError(f"{kind!r} chunk at byte {offset} is cut short (truncated)")
        if not skipped and struct.unpack(">I", crc)[0] != zlib.crc32(kind + data):
            raise PngStructureError(f"{kind!r} chunk at byte {offset} is damaged (CRC mismatch)")
        yield PngChunk(kind, data, offset)
        if kind == b"IEND":
            return


def parse_header(chunk: PngChunk) -> PngHeader:
    if chunk.type != b"IHDR" or len(chunk.data) != 13:
        raise PngStructureError("the first chunk is not a valid IHDR")
    width, height, bit_depth, colour_type, _compression, _filter, interlace = struct.unpack(">IIBBBBB", chunk.data)
    if width == 0 or height == 0:
        raise PngStructureError(f"invalid size {width}×{height}")
    return PngHeader(width, height, bit_depth, colour_type, interlace == 1)


def build_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I4s", len(data), kind) + data + struct.pack(">I", zlib.crc32(kind + data))


def insert_after_ihdr(png: bytes, chunks: Iterable[bytes]) -> bytes:
    """Return ``png`` with the already built ``chunks`` placed right after IHDR (where iCCP, eXIf, pHYs belong)."""
    if not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise PngStructureError("not a PNG that starts with IHDR")
    end_of_ihdr = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    return png[:end_of_ihdr] + b"".join(chunks) + png[end_of_ihdr:]


def iccp_chunk(profile: bytes) -> bytes:
    # Name, NUL, compression method 0 (zlib), compressed profile.
    return build_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(profile))


def exif_chunk(exif: bytes) -> bytes:
    # eXIf holds the TIFF structure itself, without the "Exif\0\0" prefix JPEG's APP1 uses.
    return build_chunk(b"eXIf", exif.removeprefix(_EXIF_PREFIX))


def phys_chunk(dpi: tuple[float, float]) -> bytes:
    # Clamped to what the chunk can say: a TIFF's resolution may claim more than the 54 million dpi PNG can.
    x, y = (max(1, round(min(value / _METRES_PER_INCH, _PNG_UINT_MAX))) for value in dpi)
    return build_chunk(b"pHYs", struct.pack(">IIB", x, y, 1))


def read_iccp(data: bytes) -> bytes:
    """The profile bytes of an iCCP chunk's data."""
    name_end = data.index(b"\x00")
    if data[name_end + 1] != 0:
        raise PngStructureError("iCCP uses an unknown compression method")
    return zlib.decompress(data[name_end + 2 :])


def read_exif(data: bytes) -> bytes:
    """An eXIf chunk's data as EXIF bytes with the "Exif\\0\\0" prefix (Pillow's convention)."""
    return data if data.startswith(_EXIF_PREFIX) else _EXIF_PREFIX + data


def read_phys_dpi(data: bytes) -> tuple[float, float] | None:
    """Dots per inch from a pHYs chunk's data, or None when the unit is not the metre (aspect ratio only)."""
    x, y, unit = struct.unpack(">IIB", data[:9])
    if unit != 1 or x == 0 or y == 0:
        return None
    return (x * _METRES_PER_INCH, y * _METRES_PER_INCH)


@dataclass(frozen=True)
class PngFacts:
    """What a PNG says about itself before decoding. ``transparent``: a tRNS chunk is present; ``frames``: the
    number of animation frames (1 for a still image)."""

    header: PngHeader
    transparent: bool
    frames: int
    icc_profile: bytes | None
    exif: bytes | None
    dpi: tuple[float, float] | None


_FACT_CHUNKS = frozenset({b"IHDR", b"tRNS", b"acTL", b"iCCP", b"eXIf", b"pHYs"})


def read_png_facts(stream: BinaryIO, *, check_all: bool = False) -> PngFacts:
    """Header, transparency, frame count, profile, EXIF and resolution of a PNG, walking every chunk to IEND.

    ``check_all`` reads every chunk and checks every CRC (the whole file is read); otherwise image data is seeked
    over. Raises PngStructureError for a damaged or truncated file. A profile that does not decompress is dropped
    (as libpng does) rather than making the picture unreadable.
    """
    header: PngHeader | None = None
    transparent, frames = False, 1
    icc: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    for chunk in iter_chunks(stream, only=None if check_all else _FACT_CHUNKS):
        if header is None:
            header = parse_header(chunk)
        elif chunk.type == b"tRNS":
            transparent = True
        elif chunk.type == b"acTL" and len(chunk.data) >= 4:
            frames = max(1, struct.unpack(">I", chunk.data[:4])[0])
        elif chunk.type == b"iCCP":
            icc = _profile_or_none(chunk.data)
        elif chunk.type == b"eXIf":
            exif = read_exif(chunk.data)
        elif chunk.type == b"pHYs" and len(chunk.data) >= 9:
            dpi = read_phys_dpi(chunk.data)
    if header is None:  # iter_chunks stops only at IEND, so IHDR was not first
        raise PngStructureError("no IHDR chunk")
    return PngFacts(header, transparent, frames, icc, exif, dpi)


def _profile_or_none(data: bytes) -> bytes | None:
    try:
        return read_iccp(data)
    except (ValueError, IndexError, zlib.error):
        return None
