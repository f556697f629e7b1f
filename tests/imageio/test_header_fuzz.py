"""Property tests over "almost valid" PNG and TIFF files: a real small file with one edit to its header or chunk
structure (a field nudged, a length or CRC off, bytes cut or dropped). ``check_image_bytes`` (what the server runs
on every upload) either reports exactly the size the header says or refuses with ``ImageFileError``: no other
exception, and never a size that is not the file's. Derandomized: the same examples every run."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import tifffile
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ldl_backend.errors import ImageFileError
from ldl_backend.imageio import check_image_bytes
from ldl_backend.imageio.png_chunks import PNG_SIGNATURE, build_chunk

QUICK = settings(max_examples=120, deadline=None, derandomize=True, database=None)
WIDTH, HEIGHT = 5, 3


def _png() -> bytes:
    stream = io.BytesIO()
    Image.fromarray(np.arange(WIDTH * HEIGHT * 3, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3)).save(stream, "PNG")
    return stream.getvalue()


def _tiff() -> bytes:
    stream = io.BytesIO()
    tifffile.imwrite(
        stream, np.arange(WIDTH * HEIGHT * 3, dtype=np.uint16).reshape(HEIGHT, WIDTH, 3), photometric="rgb"
    )
    return stream.getvalue()


PNG, TIFF = _png(), _tiff()
IHDR_DATA = slice(16, 29)  # after the signature (8), IHDR's length (4) and type (4): 13 bytes of fields


def test_the_unedited_files_pass() -> None:
    for data in (PNG, TIFF):
        info = check_image_bytes(data, "x")
        assert (info.width, info.height) == (WIDTH, HEIGHT)


@st.composite
def almost_png(draw: st.DrawFn) -> tuple[bytes, bool]:
    """An edited PNG, and whether the edit leaves a file whose every chunk is intact (IHDR re-checksummed)."""
    data = bytearray(PNG)
    edit = draw(st.sampled_from(["ihdr", "ihdr-crc", "length", "crc", "cut", "drop", "insert", "extra"]))
    if edit in ("ihdr", "ihdr-crc"):
        at = draw(st.integers(IHDR_DATA.start, IHDR_DATA.stop - 1))
        data[at] = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 16, 0x7F, 0xFF]))
        if edit == "ihdr-crc":  # a consistent file whose header says something else
            data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
            return bytes(data), True
    elif edit == "length":
        at = draw(st.sampled_from([8, 33]))  # IHDR's or the next chunk's length
        length = struct.unpack(">I", data[at : at + 4])[0] + draw(st.sampled_from([-1, 1, 1 << 31, 1 << 24]))
        data[at : at + 4] = struct.pack(">I", length % (1 << 32))
    elif edit == "crc":
        data[draw(st.integers(29, 32))] ^= draw(st.integers(1, 255))
    elif edit == "cut":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif edit == "drop":
        del data[draw(st.integers(0, len(data) - 1))]
    elif edit == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = bytes([draw(st.integers(0, 255))])
    else:  # a chunk of another type after IHDR: intact, or with a bad CRC
        chunk = bytearray(build_chunk(draw(st.sampled_from([b"tEXt", b"zzZz", b"IDAT"])), b"k\x00v"))
        intact = draw(st.booleans())
        if not intact:
            chunk[-1] ^= 1
        data[33:33] = chunk
        return bytes(data), intact
    return bytes(data), False


@QUICK
@given(edited=almost_png())
def test_an_almost_valid_png_is_read_as_its_header_says_or_refused(edited: tuple[bytes, bool]) -> None:
    data, intact = edited
    try:
        info = check_image_bytes(data, "edited.png")
    except ImageFileError as error:
        assert "edited.png" in str(error) and error.hint
        return
    # Accepted: the chunk structure must be intact, and the size is what IHDR says.
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[IHDR_DATA][:8])
    assert (info.width, info.height) == (width, height) and width >= 1 and height >= 1
    assert intact or data == PNG


@st.composite
def almost_tiff(draw: st.DrawFn) -> bytes:
    """An edited TIFF: a byte of its header or first IFD replaced, bytes cut, or one dropped."""
    data = bytearray(TIFF)
    (ifd,) = struct.unpack("<I", data[4:8])
    edit = draw(st.sampled_from(["header", "ifd", "cut", "drop"]))
    if edit == "header":
        data[draw(st.integers(0, 7))] = draw(st.integers(0, 255))
    elif edit == "ifd":
        entries = struct.unpack("<H", data[ifd : ifd + 2])[0]
        at = ifd + 2 + draw(st.integers(0, entries * 12 - 1))
        data[at] = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 0x7F, 0xFF]))
    elif edit == "cut":
        del data[draw(st.integers(0, len(data) - 1)) :]
    else:
        del data[draw(st.integers(0, len(data) - 1))]
    return bytes(data)


@QUICK
@given(data=almost_tiff())
def test_an_almost_valid_tiff_is_read_or_refused(data: bytes) -> None:
    try:
        info = check_image_bytes(data, "edited.tif", max_pixels=1 << 20)
    except ImageFileError as error:
        assert "edited.tif" in str(error) and error.hint
        return
    assert info.format == "TIFF" and 1 <= info.width * info.height <= 1 << 20
