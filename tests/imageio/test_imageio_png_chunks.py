"""PNG chunk walking, building and insertion, checked against Pillow and libpng."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from imageio_helpers import gradient, pillow_bytes, png_chunk_types, srgb_icc
from PIL import Image

from ldl_backend.imageio.png_chunks import (
    PngStructureError,
    build_chunk,
    exif_chunk,
    iccp_chunk,
    insert_after_ihdr,
    iter_chunks,
    parse_header,
    phys_chunk,
    read_png_facts,
)


def _png() -> bytes:
    return pillow_bytes(Image.fromarray(gradient(5, 7, 3, np.uint8)), "PNG")


def test_iter_chunks_walks_to_iend_and_reads_the_header() -> None:
    chunks = list(iter_chunks(io.BytesIO(_png())))
    assert [c.type for c in chunks] == png_chunk_types(_png())
    assert chunks[-1].type == b"IEND"
    header = parse_header(chunks[0])
    assert (header.width, header.height, header.bit_depth, header.colour_type) == (7, 5, 8, 2)


def test_only_skips_data_without_reading_it() -> None:
    chunks = list(iter_chunks(io.BytesIO(_png()), only={b"IHDR"}))
    assert [c.data for c in chunks if c.type == b"IDAT"] == [b""]


def test_inserted_chunks_are_valid_for_other_readers() -> None:
    exif = Image.Exif()
    exif[0x010F] = "maker"
    png = insert_after_ihdr(_png(), [iccp_chunk(srgb_icc()), exif_chunk(exif.tobytes()), phys_chunk((300.0, 72.0))])
    assert png_chunk_types(png)[:4] == [b"IHDR", b"iCCP", b"eXIf", b"pHYs"]
    with Image.open(io.BytesIO(png)) as image:
        assert image.info["icc_profile"] == srgb_icc()
        assert image.getexif()[0x010F] == "maker"
        assert [round(v) for v in image.info["dpi"]] == [300, 72]
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None and decoded.shape == (5, 7, 3)
    facts = read_png_facts(io.BytesIO(png), check_all=True)
    assert facts.icc_profile == srgb_icc()
    assert facts.exif is not None and facts.exif.startswith(b"Exif\x00\x00")
    assert facts.dpi == pytest.approx((300.0, 72.0), abs=0.05)


def test_build_chunk_crc_matches_pillows() -> None:
    data = _png()
    first_idat = next(c for c in iter_chunks(io.BytesIO(data)) if c.type == b"IDAT")
    original = data[first_idat.offset : first_idat.offset + 12 + len(first_idat.data)]
    assert build_chunk(b"IDAT", first_idat.data) == original


@pytest.mark.parametrize("cut", [7, 20, 40, -12, -1])
def test_truncation_and_damage_are_detected(cut: int) -> None:
    with pytest.raises(PngStructureError):
        list(iter_chunks(io.BytesIO(_png()[:cut])))


def test_crc_of_read_chunks_is_checked_when_others_are_skipped() -> None:
    data = bytearray(_png())
    data[20] ^= 1  # inside IHDR's data
    with pytest.raises(PngStructureError, match="CRC"):
        list(iter_chunks(io.BytesIO(bytes(data)), only={b"IHDR"}))
