"""Property tests of the image decoders: PNG, JPEG and TIFF files whose headers are mutated field by field (checksums
kept valid, so the mutation reaches the decoder rather than the CRC check), and raw-pixel headers.

Read directly, as the worker and ``ldl upscale`` read them, every file is an image whose arrays agree with its header
or an ``ImageFileError`` (never another exception, never an allocation the pixel budget forbids); uploaded to the
server, every answer is a documented one and every accepted job ends without an internal error.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from ldl_backend.errors import ImageFileError, ImageTooLargeError
from ldl_backend.imageio import read_image
from ldl_backend.server.errors import ApiError
from ldl_backend.server.raw_image import parse_header
from ldl_client.raw_image import RawHeader, RawHeaderError
from tests.imageio.imageio_helpers import chunk, exif_with_orientation, write_cv2_png
from tests.server.conftest import Server
from tests.server.test_fuzz import FINAL_STATES, HEADER_VALUES, VALID_QUERY, check

# Reproducible in CI: the same examples every run, nothing carried over between runs.
FUZZ_FILES = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ_UPLOADS = settings(max_examples=20, deadline=None, derandomize=True, database=None)
# Small enough that whatever a mutated header claims, a decode within it stays a few megabytes.
MAX_PIXELS = 1 << 18
SIDE = 12
# Values a header field tends to break on: zero, one, the extremes of its width, and near-misses of the real ones.
INTERESTING = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 255, 256, 511, 4096, 65535, 65536]
INTERESTING += [2**31 - 1, 2**31, 2**32 - 1]


def pillow(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def sources(tmp: Path) -> dict[str, bytes]:
    """One small file per decoder path: 8/16-bit, gray, palette, alpha, CMYK, progressive, float, tiled, EXIF."""
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (SIDE, SIDE + 3, 3), np.uint8)
    rgba = np.dstack([rgb, rng.integers(0, 256, rgb.shape[:2], np.uint8)])
    deep = rng.integers(0, 65536, rgb.shape, np.uint16)
    exif = exif_with_orientation(6)
    files = {
        "png rgb": pillow(Image.fromarray(rgb), "PNG"),
        "png rgba": pillow(Image.fromarray(rgba), "PNG"),
        "png palette": pillow(Image.fromarray(rgb).quantize(16), "PNG"),
        "png gray16": pillow(Image.fromarray(deep[..., 0]), "PNG"),
        "png rgb16": write_cv2_png(tmp / "rgb16.png", deep).read_bytes(),
        "png exif": pillow(Image.fromarray(rgb), "PNG", exif=exif),
        "jpeg": pillow(Image.fromarray(rgb), "JPEG", quality=90, exif=exif),
        "jpeg progressive": pillow(Image.fromarray(rgb), "JPEG", progressive=True),
        "jpeg gray": pillow(Image.fromarray(rgb[..., 0]), "JPEG"),
        "jpeg cmyk": pillow(Image.fromarray(rgba).convert("CMYK"), "JPEG"),
        "tiff rgb": pillow(Image.fromarray(rgb), "TIFF"),
        "tiff rgba lzw": pillow(Image.fromarray(rgba), "TIFF", compression="tiff_lzw"),
    }
    for name, pixels, options in (
        ("tiff rgb16", deep, {}),
        ("tiff float", rng.uniform(-0.25, 1.5, rgb.shape).astype(np.float32), {}),
        ("tiff tiled", np.zeros((32, 48, 3), np.uint8), {"tile": (16, 16)}),
        ("tiff zlib gray", deep[..., 0], {"compression": "zlib"}),
    ):
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, pixels, **options)  # type: ignore[arg-type]
        files[name] = buffer.getvalue()
    return files


# -- mutations, one field at a time -----------------------------------------------------------------------------
def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, position = [], 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append((data[position + 4 : position + 8], data[position + 8 : position + 8 + length]))
        position += 12 + length
    return chunks


def png_bytes(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunk(kind, data) for kind, data in chunks)


@st.composite
def png_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    chunks = png_chunks(data)
    kind = draw(st.sampled_from(["ihdr", "ihdr", "insert", "idat", "drop", "repeat"]))
    if kind == "ihdr":  # width, height (4 bytes each), bit depth, colour type, compression, filter, interlace
        fields = list(struct.unpack(">IIBBBBB", chunks[0][1]))
        index = draw(st.integers(0, 6))
        limit = 2**32 - 1 if index < 2 else 255
        fields[index] = draw(st.one_of(st.sampled_from([v for v in INTERESTING if v <= limit]), st.integers(0, limit)))
        chunks[0] = (b"IHDR", struct.pack(">IIBBBBB", *fields))
    elif kind == "insert":  # an ancillary or critical chunk with any content, before the pixels
        name = draw(st.sampled_from([b"PLTE", b"tRNS", b"sBIT", b"iCCP", b"eXIf", b"pHYs", b"gAMA", b"IHDR", b"acTL"]))
        chunks.insert(1, (name, draw(st.binary(max_size=40))))
    elif kind == "idat":  # pixel data that inflates to the wrong length or not at all
        rows = draw(st.binary(max_size=600))
        chunks = [(k, zlib.compress(rows) if k == b"IDAT" and draw(st.booleans()) else d) for k, d in chunks]
    elif kind == "drop":
        chunks.pop(draw(st.integers(0, len(chunks) - 1)))
    else:
        at = draw(st.integers(0, len(chunks) - 1))
        chunks.insert(at, chunks[at])
    return png_bytes(chunks)


def jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(offset of the marker, length of the segment after it) for each marker segment before the scan data."""
    found, position = [], 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        found.append((position, length))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        position += 2 + length
    return found


@st.composite
def jpeg_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A byte of a marker segment's body (SOF sizes, component counts, sampling factors, tables), or its length."""
    position, length = draw(st.sampled_from(jpeg_segments(data)))
    mutated = bytearray(data)
    if draw(st.integers(0, 4)) == 0:
        mutated[position + 2 : position + 4] = struct.pack(">H", draw(st.integers(0, 65535)))
    else:
        at = position + 4 + draw(st.integers(0, max(0, length - 3)))
        mutated[at] = draw(
            st.one_of(st.sampled_from([0, 1, 2, 3, 4, 8, 12, 16, 0x11, 0x22, 0x44, 255]), st.integers(0, 255))
        )
    return bytes(mutated)


@st.composite
def tiff_mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A field of one entry of the first IFD (tag, type, count or value: sizes, samples, compression, strips...)."""
    order = "<" if data[:2] == b"II" else ">"
    (first,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[first : first + 2])
    entry = first + 2 + 12 * draw(st.integers(0, count - 1))
    mutated = bytearray(data)
    part = draw(st.sampled_from(["type", "count", "value", "value", "value", "ifd offset"]))
    if part == "ifd offset":
        mutated[4:8] = struct.pack(order + "I", draw(st.sampled_from([*INTERESTING, len(data) - 2])))
    elif part == "type":
        mutated[entry + 2 : entry + 4] = struct.pack(order + "H", draw(st.integers(0, 20)))
    elif part == "count":
        mutated[entry + 4 : entry + 8] = struct.pack(order + "I", draw(st.sampled_from(INTERESTING)))
    else:
        value = draw(st.one_of(st.sampled_from(INTERESTING), st.integers(0, 2**32 - 1)))
        (kind,) = struct.unpack(order + "H", data[entry + 2 : entry + 4])
        packed = struct.pack(order + "H", value & 0xFFFF) + b"\0\0" if kind == 3 else struct.pack(order + "I", value)
        mutated[entry + 8 : entry + 12] = packed
    return bytes(mutated)


MUTATIONS: dict[str, Callable[[bytes], st.SearchStrategy[bytes]]] = {
    "png": png_mutations,
    "jpeg": jpeg_mutations,
    "tiff": tiff_mutations,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return sources(tmp_path_factory.mktemp("sources"))


def mutated_files(files: dict[str, bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, bytes]:
        name = draw(st.sampled_from(sorted(files)))
        return name, draw(MUTATIONS[name.split()[0]](files[name]))

    return build()


def test_every_source_reads(tmp_path: Path, files: dict[str, bytes]) -> None:
    """The unmutated files decode: the mutations below start from valid images of every kind."""
    for name, data in files.items():
        path = tmp_path / "image"
        path.write_bytes(data)
        image = read_image(path, MAX_PIXELS)
        assert image.width > 0 and image.height > 0, name


@FUZZ_FILES
@given(data=st.data())
def test_decoders_read_an_image_or_refuse_it(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes], data: st.DataObject
) -> None:
    name, body = data.draw(mutated_files(files), "file")
    path = tmp_path_factory.getbasetemp() / "mutated"
    path.write_bytes(body)
    try:
        image = read_image(path, MAX_PIXELS)
    except ImageTooLargeError:
        event(f"{name}: too large")
        return
    except ImageFileError as error:
        assert error.message and error.hint, (name, error)
        event(f"{name}: refused")
        return
    event(f"{name}: read")
    assert image.width >= 1 and image.height >= 1 and image.width * image.height <= MAX_PIXELS, image.colour.shape
    assert image.colour.ndim == 3 and image.colour.shape[2] in (1, 3), image.colour.shape
    assert image.colour.dtype in (np.uint8, np.uint16, np.float32), image.colour.dtype
    if image.alpha is not None:
        assert image.alpha.shape == image.colour.shape[:2] and image.alpha.dtype == image.colour.dtype


@FUZZ_FILES
@given(
    headers=st.dictionaries(
        st.sampled_from(["X-Ldl-Width", "X-Ldl-Height", "X-Ldl-Channels", "X-Ldl-Dtype", "X-Ldl-Other"]), HEADER_VALUES
    )
)
def test_raw_headers_parse_or_refuse(headers: dict[str, str]) -> None:
    try:
        header = RawHeader.from_headers(headers)
    except RawHeaderError as error:
        assert error.message and error.hint, error
        return
    assert header.width >= 1 and header.height >= 1 and header.channels in (1, 3, 4)
    assert (
        header.byte_count
        == header.width * header.height * header.channels * {"uint8": 1, "uint16": 2, "float32": 4}[header.dtype]
    )
    try:
        parse_header(headers, MAX_PIXELS)
    except ApiError as error:
        assert (error.status, error.code) == (422, "image_too_large") and header.pixels > MAX_PIXELS
    else:
        assert header.pixels <= MAX_PIXELS


@FUZZ_UPLOADS
@given(data=st.data())
def test_uploaded_mutations_get_documented_answers(
    server: Server, files: dict[str, bytes], data: st.DataObject
) -> None:
    name, body = data.draw(mutated_files(files), "file")
    content_type = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff"}[name.split()[0]]
    reply = server.request("POST", f"/jobs?{VALID_QUERY}", body, {"Content-Type": content_type})
    check(reply, "POST")
    event(f"{name}: {reply.status}")
    assert reply.status in (202, 400, 413, 415, 422), (reply.status, reply.body)
    if reply.status != 202:
        return
    job = server.wait(reply.json()["id"], timeout=120)
    assert job["state"] in FINAL_STATES, job
    if job["state"] == "failed":  # decoded in the worker: a damaged file fails its job with the decoder's code
        assert job["error"]["code"] not in ("internal", "worker_crashed"), job
        assert job["error"]["message"] and job["error"]["hint"], job
    assert server.request("DELETE", f"/jobs/{job['id']}").status == 204
    assert server.healthy()["worker"] != "failed"
