"""16-bit and float precision: what plain Pillow would lose, we keep; conversions to 8 bits round."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from imageio_helpers import gradient, write_cv2_png
from PIL import Image

from ldl_backend.imageio import ImageData, ImageMetadata, probe_image, read_image, write_image
from ldl_backend.imageio.samples import to_uint8


@pytest.mark.parametrize("channels", [3, 4])
def test_16_bit_png_keeps_values_pillow_would_reduce(tmp_path: Path, channels: int) -> None:
    pixels = gradient(5, 4, channels, np.uint16)
    pixels[0, 0, :3] = (40000, 257, 1)
    path = write_cv2_png(tmp_path / "in.png", pixels)

    with Image.open(path) as plain:  # the trap: Pillow opens 16-bit RGB(A) as 8-bit
        assert plain.mode in ("RGB", "RGBA")
        assert np.asarray(plain)[0, 0, 0] == 40000 >> 8

    image = read_image(path)
    assert image.dtype == np.uint16
    assert image.colour[0, 0].tolist() == [40000, 257, 1]
    np.testing.assert_array_equal(image.colour, pixels[:, :, :3])
    info = probe_image(path)
    assert (info.bit_depth, info.channels, info.has_alpha) == (16, 3, channels == 4)
    assert info.mode == ("RGBA;16" if channels == 4 else "RGB;16")


def test_16_bit_is_decided_by_the_header_not_the_values(tmp_path: Path) -> None:
    # Every sample a multiple of 257 (what 8-bit data widened looks like): still a 16-bit file, still uint16.
    pixels = (gradient(4, 4, 3, np.uint8).astype(np.uint16) * 257).astype(np.uint16)
    image = read_image(write_cv2_png(tmp_path / "in.png", pixels))
    assert image.dtype == np.uint16
    np.testing.assert_array_equal(image.colour, pixels)
    # And an 8-bit file whose values happen to be small stays uint8.
    Image.fromarray(np.full((4, 4, 3), 3, np.uint8)).save(tmp_path / "small.png")
    assert read_image(tmp_path / "small.png").dtype == np.uint8


def test_float32_tiff_keeps_values_outside_zero_one(tmp_path: Path) -> None:
    pixels = np.array([[[0.123456, 1.5, -0.25]]], np.float32)
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb", metadata=None)
    image = read_image(tmp_path / "in.tif")
    assert image.dtype == np.float32
    assert image.colour[0, 0].tolist() == pixels[0, 0].tolist()
    write_image(tmp_path / "out.tif", image)
    assert read_image(tmp_path / "out.tif").colour[0, 0].tolist() == pixels[0, 0].tolist()


def test_float32_to_png_is_16_bit_clipped_and_rounded(tmp_path: Path) -> None:
    colour = np.array([[[0.5], [1.5], [-0.2], [0.123456]]], np.float32)
    write_image(tmp_path / "out.png", ImageData(colour))
    stored = cv2.imdecode(np.fromfile(tmp_path / "out.png", np.uint8), cv2.IMREAD_UNCHANGED)
    assert stored is not None
    assert stored.dtype == np.uint16
    assert stored[0].tolist() == [32768, 65535, 0, round(0.123456 * 65535)]


def test_eight_bit_conversion_rounds() -> None:
    wide = np.array([65535, 32896, 32767, 128, 127, 0], np.uint16)
    assert to_uint8(wide).tolist() == [255, 128, 127, 0, 0, 0]
    every = np.arange(65536, dtype=np.uint16)
    np.testing.assert_array_equal(to_uint8(every), np.rint(every / 257.0).astype(np.uint8))
    assert to_uint8(np.array([1.0, 0.5, -1.0, 2.0, np.nan], np.float32)).tolist() == [255, 128, 0, 255, 0]


@pytest.mark.parametrize("suffix", ["jpg", "webp"])
def test_16_bit_to_8_bit_formats_rounds_not_truncates(tmp_path: Path, suffix: str) -> None:
    colour = np.full((16, 16, 3), 65535, np.uint16)
    colour[:, :, 1] = 32896
    colour[:, :, 2] = 0
    write_image(tmp_path / f"out.{suffix}", ImageData(colour), quality=100)
    back = read_image(tmp_path / f"out.{suffix}")
    assert back.dtype == np.uint8
    # Lossy codecs may move a value by a step or two; truncation would give 127 for 32896.
    assert np.abs(back.colour[8, 8].astype(int) - [255, 128, 0]).max() <= 2


def test_gray_stays_one_channel(tmp_path: Path) -> None:
    for dtype in (np.uint8, np.uint16, np.float32):
        gray = gradient(5, 6, 1, dtype)
        for suffix in ("png", "tif"):
            write_image(tmp_path / f"g.{suffix}", ImageData(gray), overwrite=True)
            assert read_image(tmp_path / f"g.{suffix}").colour.shape == (5, 6, 1)
    write_image(tmp_path / "g.jpg", ImageData(gradient(5, 6, 1, np.uint8)))
    with Image.open(tmp_path / "g.jpg") as jpeg:
        assert jpeg.mode == "L"
    assert read_image(tmp_path / "g.jpg").colour.shape == (5, 6, 1)


def test_gray_alpha_16_bit_png_is_written_as_gray_alpha(tmp_path: Path) -> None:
    gray, alpha = gradient(5, 6, 1, np.uint16), gradient(5, 6, 1, np.uint16, seed=3)[:, :, 0]
    gray[0, 0, 0], alpha[0, 0] = 40000, 257
    write_image(tmp_path / "ga.png", ImageData(gray, alpha, ImageMetadata(dpi=(300.0, 300.0))))
    data = (tmp_path / "ga.png").read_bytes()
    assert data[24:26] == bytes([16, 4])  # IHDR: bit depth 16, colour type gray+alpha
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)  # libpng as the referee
    assert decoded is not None
    np.testing.assert_array_equal(decoded[:, :, 0], gray[:, :, 0])
    np.testing.assert_array_equal(decoded[:, :, 3], alpha)
    back = read_image(tmp_path / "ga.png")
    np.testing.assert_array_equal(back.colour, gray)
    np.testing.assert_array_equal(back.alpha, alpha)
    assert back.metadata.dpi is not None and abs(back.metadata.dpi[0] - 300) < 0.1


def test_webp_has_no_gray_mode(tmp_path: Path) -> None:
    # A format limit, not a choice: WebP stores gray as RGB, so it comes back with three equal channels.
    gray = gradient(8, 8, 1, np.uint8)
    write_image(tmp_path / "g.webp", ImageData(gray), quality=100)
    assert read_image(tmp_path / "g.webp").colour.shape == (8, 8, 3)
