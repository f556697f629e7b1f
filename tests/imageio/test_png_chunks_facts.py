"""``read_png_facts`` and the chunk readers under it, on PNGs assembled byte by byte: what each fact chunk says
(transparency, frame count, profile, EXIF, resolution), what a malformed one is read as, and which damage refuses
the file. The fact tests run in both modes: the probe (image data seeked over) and ``check_all`` (every CRC)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from imageio_helpers import chunk, raw_png

from ldl_backend.imageio.png_chunks import (
    PngFacts,
    PngHeader,
    PngStructureError,
    exif_chunk,
    insert_after_ihdr,
    iter_chunks,
    parse_header,
    phys_chunk,
    read_exif,
    read_iccp,
    read_png_facts,
)

TIFF = b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # a little-endian TIFF header with an empty IFD
HEADER = PngHeader(2, 1, 8, 2, False)


def _png(*extra: bytes) -> bytes:
    """A 2×1 RGB PNG with ``extra`` chunks between IHDR and IDAT."""
    return raw_png(2, 1, 8, 2, bytes(6), extra=b"".join(extra))


def _facts(data: bytes, check_all: bool) -> PngFacts:
    # The probe mode is the default (what probe_image calls), so it is tested through the default.
    stream = io.BytesIO(data)
    return read_png_facts(stream, check_all=True) if check_all else read_png_facts(stream)


def _phys(x: int, y: int, unit: int) -> bytes:
    return struct.pack(">IIB", x, y, unit)


both_modes = pytest.mark.parametrize("check_all", [False, True], ids=["probe", "check_all"])


@both_modes
def test_a_plain_still_png_has_no_facts_but_its_header(check_all: bool) -> None:
    assert _facts(_png(), check_all) == PngFacts(HEADER, False, 1, None, None, None)


@both_modes
def test_every_fact_chunk_is_read(check_all: bool) -> None:
    profile = b"a profile" * 10
    data = _png(
        chunk(b"iCCP", b"name\x00\x00" + zlib.compress(profile)),
        chunk(b"eXIf", TIFF),
        chunk(b"pHYs", _phys(11811, 3937, 1)),  # 300 × 100 dpi
        chunk(b"acTL", struct.pack(">II", 3, 0)),
        chunk(b"tRNS", bytes(6)),
    )
    facts = _facts(data, check_all)
    assert facts.header == HEADER
    assert facts.transparent is True
    assert facts.frames == 3
    assert facts.icc_profile == profile
    assert facts.exif == b"Exif\x00\x00" + TIFF
    assert facts.dpi == pytest.approx((300.0, 100.0), abs=0.01)


@both_modes
@pytest.mark.parametrize(
    ("actl", "frames"),
    [
        (struct.pack(">II", 0, 0), 1),  # zero frames (invalid) is still one picture
        (struct.pack(">I", 2), 2),  # only the frame count, no play count: the count is all that is read
        (b"\x00\x00\x02", 1),  # too short to hold a count: ignored, not a crash
        (struct.pack(">II", 0x80000000, 0), 0x80000000),  # many frames (refused as animated), never a negative count
    ],
    ids=["zero", "count-only", "short", "huge"],
)
def test_animation_frame_count(check_all: bool, actl: bytes, frames: int) -> None:
    assert _facts(_png(chunk(b"acTL", actl)), check_all).frames == frames


@both_modes
@pytest.mark.parametrize(
    ("phys", "dpi"),
    [
        (_phys(3937, 3937, 0), None),  # unit 0: an aspect ratio, not a resolution
        (_phys(0, 3937, 1), None),  # a zero density says nothing
        (_phys(3937, 0, 1), None),
        (_phys(3937, 7874, 1) + b"\x00", (100.0, 200.0)),  # one byte too long: the nine that matter are read
        (_phys(3937, 7874, 1)[:8], None),  # too short: ignored, not a crash
        (_phys(0xFFFFFFFF, 3937, 1), (0xFFFFFFFF * 0.0254, 100.0)),  # beyond the PNG limit, still unsigned
    ],
    ids=["aspect-only", "no-x", "no-y", "long", "short", "unsigned"],
)
def test_resolution(check_all: bool, phys: bytes, dpi: tuple[float, float] | None) -> None:
    found = _facts(_png(chunk(b"pHYs", phys)), check_all).dpi
    assert found == (dpi if dpi is None else pytest.approx(dpi, abs=0.01))


@pytest.mark.parametrize(
    ("dpi", "density"),
    [
        ((300.0, 100.0), (11811, 3937)),
        # Zero would mean "no resolution" to readers (read_phys_dpi included): one dot per metre is the least.
        ((0.001, 0.001), (1, 1)),
        # A TIFF may claim more than PNG can hold (2**31 - 1 dots per metre): the most it can say, not a failed write.
        ((1e12, 72.0), (0x7FFFFFFF, 2835)),
    ],
    ids=["usual", "tiny", "beyond-png"],
)
def test_resolution_is_written_in_dots_per_metre(dpi: tuple[float, float], density: tuple[int, int]) -> None:
    assert phys_chunk(dpi) == chunk(b"pHYs", _phys(*density, 1))


def test_exif_is_written_without_the_jpeg_prefix() -> None:
    # eXIf holds the bare TIFF structure; Pillow's EXIF bytes carry JPEG's "Exif\0\0" in front.
    assert exif_chunk(b"Exif\x00\x00" + TIFF) == chunk(b"eXIf", TIFF)
    assert exif_chunk(TIFF) == chunk(b"eXIf", TIFF)


def test_exif_already_carrying_the_jpeg_prefix_is_not_prefixed_twice() -> None:
    assert read_exif(b"Exif\x00\x00" + TIFF) == b"Exif\x00\x00" + TIFF
    assert read_exif(TIFF) == b"Exif\x00\x00" + TIFF


@both_modes
@pytest.mark.parametrize(
    "iccp",
    [
        b"name\x00\x01" + zlib.compress(b"profile"),  # compression method 1 does not exist
        b"name\x00\x00" + b"not zlib",
        b"name without its NUL",
        b"name\x00",  # no compression method byte
    ],
    ids=["unknown-method", "bad-zlib", "no-nul", "no-method"],
)
def test_an_unreadable_profile_is_dropped_not_fatal(check_all: bool, iccp: bytes) -> None:
    assert _facts(_png(chunk(b"iCCP", iccp)), check_all).icc_profile is None


@both_modes
@pytest.mark.parametrize("kind", [b"IHDR", b"tRNS", b"acTL", b"iCCP", b"eXIf", b"pHYs", b"IEND"])
def test_a_damaged_chunk_that_is_read_refuses_the_file(check_all: bool, kind: bytes) -> None:
    # The probe reads every chunk whose facts it reports, so their CRCs are checked even when image data is not.
    data = bytearray(
        _png(
            chunk(b"tRNS", bytes(6)),
            chunk(b"acTL", bytes(8)),
            chunk(b"iCCP", b"n\x00\x00"),
            chunk(b"eXIf", TIFF),
            chunk(b"pHYs", _phys(1, 1, 1)),
        )
    )
    at = data.index(kind) + 4  # the chunk's first data byte, or IEND's CRC
    data[at] ^= 1
    with pytest.raises(PngStructureError, match="CRC"):
        _facts(bytes(data), check_all)


def test_damaged_image_data_is_found_by_check_all_only() -> None:
    data = bytearray(_png())
    data[data.index(b"IDAT") + 4] ^= 1
    assert read_png_facts(io.BytesIO(bytes(data))).header == HEADER  # by default image data is not read
    with pytest.raises(PngStructureError, match="CRC"):
        _facts(bytes(data), check_all=True)


@pytest.mark.parametrize(("length", "error"), [(0x7FFFFFFF, "cut short"), (0x80000000, "impossible length")])
def test_a_chunk_longer_than_the_png_limit_is_refused_before_reading(length: int, error: str) -> None:
    # PNG caps a chunk at 2**31 - 1 bytes; a larger claim is refused without asking the stream for it.
    data = _png().removesuffix(chunk(b"IEND", b"")) + struct.pack(">I4s", length, b"tEXt")
    with pytest.raises(PngStructureError, match=error):
        list(iter_chunks(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("fields", "kind"),
    [((0, 1), b"IHDR"), ((1, 0), b"IHDR"), ((1, 1), b"tEXt")],
    ids=["no-width", "no-height", "not-ihdr"],
)
def test_a_header_without_size_or_not_ihdr_is_refused(fields: tuple[int, int], kind: bytes) -> None:
    data = struct.pack(">IIBBBBB", *fields, 8, 2, 0, 0, 0)  # 13 bytes either way
    (first, *_) = iter_chunks(io.BytesIO(b"\x89PNG\r\n\x1a\n" + chunk(kind, data) + chunk(b"IEND", b"")))
    with pytest.raises(PngStructureError, match="IHDR" if kind != b"IHDR" else "invalid size"):
        parse_header(first)


def test_interlace_is_read_from_the_header() -> None:
    def header(interlace: int) -> PngHeader:
        data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 4, 16, 6, 0, 0, interlace))
        return parse_header(next(iter_chunks(io.BytesIO(data))))

    assert header(1) == PngHeader(3, 4, 16, 6, True)
    assert header(0) == PngHeader(3, 4, 16, 6, False)


def test_header_sizes_are_unsigned() -> None:
    # A size past 2**31 must stay huge (and be refused as too large), never turn negative and slip under a limit.
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0xFFFFFFFF, 0x80000000, 16, 6, 0, 0, 0))
    assert parse_header(next(iter_chunks(io.BytesIO(data)))) == PngHeader(0xFFFFFFFF, 0x80000000, 16, 6, False)


@pytest.mark.parametrize("data", [b"not a png at all", b"\x89PNG\r\n\x1a\n" + chunk(b"tEXt", b"k\x00v")])
def test_chunks_are_inserted_only_after_a_leading_ihdr(data: bytes) -> None:
    with pytest.raises(PngStructureError, match="IHDR"):
        insert_after_ihdr(data, [phys_chunk((72.0, 72.0))])


# The messages below reach the user (probe_image: "x.png is not a readable PNG: <message>"), so each must say what
# is wrong.
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + bytes(20), "no PNG signature"),
        (_png()[:20], "IHDR.* cut short"),  # inside IHDR's data
        (_png()[:-2], "IEND.* cut short"),  # inside IEND's CRC
        (_png()[:-12], "ends at byte .* before the IEND chunk"),
    ],
    ids=["signature", "data", "crc", "no-iend"],
)
def test_structure_errors_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(PngStructureError, match=message):
        list(iter_chunks(io.BytesIO(data)))


def test_an_unknown_profile_compression_is_named() -> None:
    with pytest.raises(PngStructureError, match="unknown compression method"):
        read_iccp(b"name\x00\x01" + zlib.compress(b"profile"))
