"""The PNG encoder compresses bands on several threads: the file must be one valid zlib stream (its Adler-32
checked by zlib itself), decode to the very same samples in Pillow and OpenCV, and not depend on the thread count."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from ldl_backend.imageio import png_stream
from ldl_backend.imageio.png_stream import write_png


def idat_stream(png: bytes) -> bytes:
    """The concatenated IDAT payload of a PNG file."""
    position, payload = 8, bytearray()
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            payload += png[position + 8 : position + 8 + length]
        position += 12 + length
    return bytes(payload)


def encode(colour: np.ndarray, alpha: np.ndarray | None, threads: int, level: int = 4) -> bytes:
    stream = io.BytesIO()
    write_png(stream, colour, alpha, compress_level=level, threads=threads)
    return stream.getvalue()


@pytest.fixture(autouse=True)
def small_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    # A few rows per band, so even a small image is many independently compressed bands.
    monkeypatch.setattr(png_stream, "_BAND_BYTES", 1500)


@pytest.mark.parametrize(
    ("channels", "dtype", "with_alpha"),
    [(3, np.uint8, False), (3, np.uint8, True), (1, np.uint8, False), (3, np.uint16, True), (1, np.uint16, False)],
)
def test_bands_on_any_thread_count_make_the_same_valid_file(channels: int, dtype: type, with_alpha: bool) -> None:
    rng = np.random.default_rng(channels)
    top = np.iinfo(dtype).max
    # Smooth gradients plus noise: long matches that reach back across band boundaries, where the priming matters.
    ramp = np.linspace(0, top, 97 * 61 * channels).reshape(97, 61, channels)
    colour = np.clip(ramp + rng.normal(0, top / 50, ramp.shape), 0, top).astype(dtype)
    alpha = rng.integers(0, top, (97, 61), dtype=dtype, endpoint=True) if with_alpha else None
    files = {threads: encode(colour, alpha, threads) for threads in (1, 2, 5)}
    assert files[1] == files[2] == files[5]
    raw = zlib.decompress(idat_stream(files[1]))  # checks the header and the Adler-32 of the whole stream
    samples = channels + with_alpha
    assert len(raw) == 97 * (1 + 61 * samples * np.dtype(dtype).itemsize)
    decoded = cv2.imdecode(np.frombuffer(files[2], np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None
    expected = colour if alpha is None else np.concatenate([colour, alpha[..., None]], axis=2)
    if samples >= 3:  # OpenCV gives BGR(A)
        decoded = np.concatenate([decoded[..., 2::-1], decoded[..., 3:]], axis=2)
    np.testing.assert_array_equal(decoded.reshape(expected.shape), expected)
    if dtype == np.uint8:
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(files[5]))).reshape(expected.shape), expected)


def test_each_band_reaches_back_into_the_one_before() -> None:
    # Rows repeating every 3 rows: every match lies in an earlier band (bands here are 2 rows). Primed with the
    # window before it, the file is 3.6 KB against 3.0 KB for zlib on the whole; unprimed bands would make 73 KB.
    period = np.random.default_rng(3).integers(0, 256, (3, 200, 3), dtype=np.uint8)
    colour = np.tile(period, (40, 1, 1))
    ours = len(idat_stream(encode(colour, None, threads=3)))
    rows = colour.reshape(120, -1)
    filtered = np.concatenate([np.full((120, 1), 2, np.uint8), np.diff(rows, axis=0, prepend=0).astype(np.uint8)], 1)
    assert ours <= 1.3 * len(zlib.compress(filtered.tobytes(), 4))


def test_a_compression_level_outside_zlibs_range_is_refused() -> None:
    with pytest.raises(ValueError, match="0-9"):
        encode(np.zeros((2, 2, 3), np.uint8), None, threads=1, level=10)
