"""Damaged, hostile and unsupported inputs give our errors, with a hint, fast, and leave no file open."""

from __future__ import annotations

import struct
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from imageio_helpers import chunk, gradient, pillow_bytes, write_cv2_png
from PIL import Image, ImageFile

from ldl_backend.errors import ImageFileError, ImageTooLargeError
from ldl_backend.imageio import probe_image, read_image


def _expect_bad_image(path: Path, *words: str) -> ImageFileError:
    with pytest.raises(ImageFileError) as caught:
        read_image(path)
    error = caught.value
    assert error.code == "bad_image"
    assert error.hint
    for word in words:
        assert word.lower() in error.message.lower()
    return error


def _header_bomb_png(width: int, height: int) -> bytes:
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", b"x\x9c\x03\x00\x00\x00\x00\x01") + chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(pillow_bytes(Image.fromarray(gradient(16, 16, 3, np.uint8)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def test_header_bomb_png_is_refused_fast_without_allocating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_header_bomb_png(40000, 40000))
    assert path.stat().st_size < 100
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageTooLargeError) as caught:
        read_image(path)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 2_000_000
    assert caught.value.code == "image_too_large"
    assert "40000×40000" in caught.value.message
    assert caught.value.hint
    info = probe_image(path)  # the header alone is fine to look at
    assert (info.width, info.height) == (40000, 40000)


def test_header_bomb_jpeg_beyond_pillows_limit_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jpg"
    path.write_bytes(_jpeg_claiming(40000, 40000))
    for call in (read_image, probe_image):
        with pytest.raises(ImageTooLargeError):
            call(path)


def test_pillows_bomb_warning_is_not_leaked_and_our_budget_decides(tmp_path: Path) -> None:
    path = tmp_path / "large.jpg"
    path.write_bytes(_jpeg_claiming(10000, 10000))  # between Pillow's warning and error thresholds
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = probe_image(path)
    assert (info.width, info.height) == (10000, 10000)
    with pytest.raises(ImageTooLargeError):
        read_image(path, max_pixels=50_000_000)


def test_budget_is_checked_against_the_oriented_size_before_decoding(tmp_path: Path) -> None:
    Image.fromarray(gradient(10, 20, 3, np.uint8)).save(tmp_path / "in.png")
    assert read_image(tmp_path / "in.png", max_pixels=200).width == 20
    with pytest.raises(ImageTooLargeError):
        read_image(tmp_path / "in.png", max_pixels=199)


def _png(tmp: Path) -> bytes:
    return pillow_bytes(Image.fromarray(gradient(32, 32, 3, np.uint8)), "PNG")


def _png16(tmp: Path) -> bytes:
    return write_cv2_png(tmp / "src.png", gradient(32, 32, 4, np.uint16)).read_bytes()


def _tiff_zlib(tmp: Path) -> bytes:
    tifffile.imwrite(tmp / "src.tif", gradient(32, 32, 3, np.uint16), photometric="rgb", compression="zlib")
    return (tmp / "src.tif").read_bytes()


def _tiff_lzw(tmp: Path) -> bytes:
    return pillow_bytes(Image.fromarray(gradient(32, 32, 3, np.uint8)), "TIFF", compression="tiff_lzw")


def _tiff16_lzw(tmp: Path) -> bytes:
    ok, encoded = cv2.imencode(".tiff", gradient(32, 32, 3, np.uint16))
    assert ok
    return encoded.tobytes()


SOURCES: dict[str, Callable[[Path], bytes]] = {
    "png": _png,
    "png16": _png16,
    "jpeg": lambda tmp: pillow_bytes(Image.fromarray(gradient(32, 32, 3, np.uint8)), "JPEG"),
    "webp": lambda tmp: pillow_bytes(Image.fromarray(gradient(32, 32, 3, np.uint8)), "WEBP"),
    "bmp": lambda tmp: pillow_bytes(Image.fromarray(gradient(32, 32, 3, np.uint8)), "BMP"),
    "tiff-zlib": _tiff_zlib,
    "tiff-lzw": _tiff_lzw,
    "tiff16-lzw": _tiff16_lzw,
}


@pytest.mark.filterwarnings("ignore:Truncated File Read")  # Pillow's own diagnostic before it raises
@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("keep", [0.5, 0.9, -2])
def test_truncated_files_raise_and_are_never_padded(tmp_path: Path, source: str, keep: float) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # Pillow's default, which we rely on
    data = SOURCES[source](tmp_path)
    cut = int(len(data) * keep) if keep > 0 else len(data) + int(keep)
    path = tmp_path / "cut.img"
    path.write_bytes(data[:cut])
    _expect_bad_image(path)


def test_png_missing_only_its_end_is_refused(tmp_path: Path) -> None:
    data = _png(tmp_path)
    (tmp_path / "no_iend.png").write_bytes(data[:-12])  # every pixel present, IEND gone: Pillow alone accepts it
    _expect_bad_image(tmp_path / "no_iend.png", "truncated")


def test_png_with_a_damaged_chunk_is_refused(tmp_path: Path) -> None:
    data = bytearray(_png(tmp_path))
    data[60] ^= 0xFF  # inside IDAT
    (tmp_path / "flipped.png").write_bytes(bytes(data))
    _expect_bad_image(tmp_path / "flipped.png", "CRC")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    _expect_bad_image(tmp_path / "empty.png", "empty")


def test_random_bytes(tmp_path: Path) -> None:
    (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _expect_bad_image(tmp_path / "noise.jpg", "not an image")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    _expect_bad_image(tmp_path / "nowhere.png", "does not exist")
    _expect_bad_image(tmp_path, "folder")
    with pytest.raises(ImageFileError):
        probe_image(tmp_path)


@pytest.mark.parametrize(
    ("content", "label"),
    [
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "EPS"),
        (b"\xc5\xd0\xd3\xc6" + bytes(40), "EPS"),
        (b"8BPS\x00\x01" + bytes(40), "PSD"),
        (b"GIF89a" + bytes(40), "GIF"),
        (b"\x00\x00\x00\x1cftypheic" + bytes(40), "HEIF"),
    ],
)
def test_unsupported_formats_are_named_and_never_opened(tmp_path: Path, content: bytes, label: str) -> None:
    path = tmp_path / "disguised.png"  # the name does not matter; the first bytes do
    path.write_bytes(content)
    error = _expect_bad_image(path, "unsupported format", label)
    assert "PNG, JPEG, WebP or TIFF" in error.message


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animations_are_refused(tmp_path: Path, fmt: str) -> None:
    frames = [Image.fromarray(gradient(8, 8, 3, np.uint8, seed=seed)) for seed in range(3)]
    frames[0].save(tmp_path / "anim.img", format=fmt, save_all=True, append_images=frames[1:])
    _expect_bad_image(tmp_path / "anim.img", "animated", "3 frames")


@pytest.mark.filterwarnings("ignore:Truncated File Read")
def test_no_file_is_left_open(tmp_path: Path) -> None:
    descriptors = Path("/proc/self/fd")
    if not descriptors.is_dir():
        pytest.skip("needs /proc/self/fd")
    paths = []
    for name, make in SOURCES.items():
        good, bad = tmp_path / f"{name}.good", tmp_path / f"{name}.bad"
        data = make(tmp_path)
        good.write_bytes(data)
        bad.write_bytes(data[: len(data) // 2])
        paths += [good, bad]
    before = sum(1 for _ in descriptors.iterdir())
    for path in paths:
        try:
            read_image(path)
            probe_image(path)
        except ImageFileError:
            pass
    assert sum(1 for _ in descriptors.iterdir()) == before


def test_tiff_with_samples_of_different_bit_depths_is_refused(tmp_path: Path) -> None:
    """Found by the server's fuzz test: one flipped bit in BitsPerSample (8, 8, 8) → (9, 8, 8) raised a TypeError."""
    path = tmp_path / "mixed.tif"
    tifffile.imwrite(path, gradient(16, 16, 3, np.uint8), photometric="rgb")
    with tifffile.TiffFile(path) as tiff:
        offset = tiff.pages.first.tags["BitsPerSample"].valueoffset
    data = bytearray(path.read_bytes())
    assert data[offset : offset + 6] == struct.pack("<3H", 8, 8, 8)
    data[offset] ^= 1
    path.write_bytes(bytes(data))
    _expect_bad_image(path, "bit depths")
    with pytest.raises(ImageFileError):
        probe_image(path)


def test_tiff_with_a_malformed_orientation_tag_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orientation.tif"
    tifffile.imwrite(path, gradient(8, 8, 3, np.uint8), photometric="rgb", extratags=[(274, "H", 2, (1, 1), False)])
    _expect_bad_image(path, "TIFF")
