"""Round trips per pixel layout: build a file with another library, read it, write PNG and TIFF, read those back."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from imageio_helpers import chunk, cmyk_icc_profile, gradient, raw_png, write_cv2_png
from PIL import Image, ImageCms

from ldl_backend.imageio import read_image, srgb_profile_bytes, write_image

H, W = 6, 7


@dataclass(frozen=True)
class Case:
    path: Path
    colour: np.ndarray
    alpha: np.ndarray | None
    mode: str


def _bilevel(tmp: Path) -> Case:
    bits = gradient(H, W, 1, np.uint8)[:, :, 0] > 127
    Image.fromarray(bits).save(tmp / "in.png")
    return Case(tmp / "in.png", np.where(bits, 255, 0).astype(np.uint8)[:, :, None], None, "1")


def _gray(tmp: Path) -> Case:
    gray = gradient(H, W, 1, np.uint8)
    Image.fromarray(gray[:, :, 0]).save(tmp / "in.png")
    return Case(tmp / "in.png", gray, None, "L")


def _gray_alpha(tmp: Path) -> Case:
    pixels = gradient(H, W, 2, np.uint8)
    Image.fromarray(pixels).save(tmp / "in.png")
    return Case(tmp / "in.png", pixels[:, :, :1], pixels[:, :, 1], "LA")


def _palette(tmp: Path, transparent: bool) -> Case:
    indices = (gradient(H, W, 1, np.uint8)[:, :, 0] % 16).astype(np.uint8)
    palette = gradient(16, 1, 3, np.uint8, seed=1)[:, 0, :]
    image = Image.frombytes("P", (W, H), indices.tobytes())
    image.putpalette(palette.tobytes())
    if transparent:
        image.save(tmp / "in.png", transparency=3)
    else:
        image.save(tmp / "in.png")
    alpha = np.where(indices == 3, 0, 255).astype(np.uint8) if transparent else None
    return Case(tmp / "in.png", palette[indices], alpha, "P+transparency" if transparent else "P")


def _rgb_or_rgba(tmp: Path, channels: int, fmt: str, **options: object) -> Case:
    pixels = gradient(H, W, channels, np.uint8)
    path = tmp / f"in.{fmt.lower()}"
    Image.fromarray(pixels).save(path, format=fmt, **options)
    alpha = pixels[:, :, 3] if channels == 4 else None
    return Case(path, pixels[:, :, :3], alpha, "RGBA" if channels == 4 else "RGB")


def _cmyk(tmp: Path, with_profile: bool) -> Case:
    ink = gradient(H, W, 4, np.uint8)
    ink[0, 0], ink[0, 1] = (0, 0, 0, 0), (255, 0, 0, 0)  # paper white, pure cyan
    image = Image.frombytes("CMYK", (W, H), ink.tobytes())
    profile = cmyk_icc_profile()
    if with_profile:
        image.save(tmp / "in.tif", icc_profile=profile)
    else:
        image.save(tmp / "in.tif")
    if with_profile:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        expected = ImageCms.profileToProfile(image, source, target, outputMode="RGB")
        assert expected is not None
    else:
        expected = image.convert("RGB")
    return Case(tmp / "in.tif", np.asarray(expected), None, "CMYK")


def _gray16_png(tmp: Path) -> Case:
    gray = gradient(H, W, 1, np.uint16)
    gray[0, 0, 0] = 40000
    Image.fromarray(gray[:, :, 0]).save(tmp / "in.png")  # Pillow writes 16-bit gray itself (mode I;16)
    return Case(tmp / "in.png", gray, None, "L;16")


def _png16(tmp: Path, channels: int) -> Case:
    pixels = gradient(H, W, channels, np.uint16)
    pixels[0, 0, :3] = (40000, 257, 1)
    write_cv2_png(tmp / "in.png", pixels)
    alpha = pixels[:, :, 3] if channels == 4 else None
    return Case(tmp / "in.png", pixels[:, :, :3], alpha, "RGBA;16" if channels == 4 else "RGB;16")


def _gray_alpha16_png(tmp: Path) -> Case:
    pixels = gradient(H, W, 2, np.uint16)
    pixels[0, 0] = (40000, 257)
    (tmp / "in.png").write_bytes(raw_png(W, H, 16, 4, pixels.astype(">u2").tobytes()))
    return Case(tmp / "in.png", pixels[:, :, :1], pixels[:, :, 1], "LA;16")


def _rgb16_colour_key_png(tmp: Path) -> Case:
    pixels = gradient(H, W, 3, np.uint16)
    pixels[2, 3] = (5, 6, 7)
    key = chunk(b"tRNS", struct.pack(">HHH", 5, 6, 7))
    (tmp / "in.png").write_bytes(raw_png(W, H, 16, 2, pixels.astype(">u2").tobytes(), extra=key))
    alpha = np.full((H, W), 65535, np.uint16)
    alpha[2, 3] = 0
    return Case(tmp / "in.png", pixels, alpha, "RGB;16+transparency")


def _gray16_colour_key_png(tmp: Path) -> Case:
    gray = gradient(H, W, 1, np.uint16)
    gray[1, 1, 0] = 3
    key = chunk(b"tRNS", struct.pack(">H", 3))
    (tmp / "in.png").write_bytes(raw_png(W, H, 16, 0, gray.astype(">u2").tobytes(), extra=key))
    return Case(tmp / "in.png", gray, np.where(gray[:, :, 0] == 3, 0, 65535).astype(np.uint16), "L;16+transparency")


def _tiff(tmp: Path, channels: int, dtype: type[np.generic], alpha: bool = False, planar: bool = False) -> Case:
    pixels = gradient(H, W, channels, dtype)
    if np.dtype(dtype).kind == "f":
        pixels[0, 0, 0] = 0.123456
        pixels[0, 1, 0] = 1.5
    photometric = "rgb" if channels - alpha >= 3 else "minisblack"
    stored = np.moveaxis(pixels, -1, 0) if planar else (pixels if channels > 1 else pixels[:, :, 0])
    tifffile.imwrite(
        tmp / "in.tif",
        stored,
        photometric=photometric,
        planarconfig="separate" if planar else "contig",
        extrasamples=["UNASSALPHA"] if alpha else None,
        compression="zlib",
        metadata=None,
    )
    colour = pixels[:, :, : channels - 1] if alpha else pixels
    return Case(tmp / "in.tif", colour, pixels[:, :, -1] if alpha else None, "")


def _int32_tiff(tmp: Path, large: bool) -> Case:
    gray = gradient(H, W, 1, np.uint16).astype(np.int32)
    if large:
        gray[0, 0, 0] = 100000
    tifffile.imwrite(tmp / "in.tif", gray[:, :, 0], photometric="minisblack", metadata=None)
    expected = (gray / 65535).astype(np.float32) if large else gray.astype(np.uint16)
    return Case(tmp / "in.tif", expected, None, "L;32S")


def _pillow_float_tiff(tmp: Path) -> Case:
    gray = gradient(H, W, 1, np.float32)
    Image.fromarray(gray[:, :, 0]).save(tmp / "in.tif")  # mode F
    return Case(tmp / "in.tif", gray, None, "L;32F")


def _lzw_tiff(tmp: Path, channels: int) -> Case:
    # tifffile needs the optional imagecodecs package for LZW; the reader falls back to OpenCV or Pillow.
    pixels = gradient(H, W, channels, np.uint8)
    Image.fromarray(pixels).save(tmp / "in.tif", compression="tiff_lzw")
    return Case(tmp / "in.tif", pixels[:, :, :3], pixels[:, :, 3] if channels == 4 else None, "")


def _lzw_tiff16(tmp: Path) -> Case:
    pixels = gradient(H, W, 3, np.uint16)
    ok, encoded = cv2.imencode(".tiff", pixels[:, :, ::-1])  # OpenCV writes LZW
    assert ok
    (tmp / "in.tif").write_bytes(encoded.tobytes())
    return Case(tmp / "in.tif", pixels, None, "RGB;16")


CASES: dict[str, Callable[[Path], Case]] = {
    "1": _bilevel,
    "L": _gray,
    "LA": _gray_alpha,
    "P": lambda tmp: _palette(tmp, transparent=False),
    "P+transparency": lambda tmp: _palette(tmp, transparent=True),
    "RGB": lambda tmp: _rgb_or_rgba(tmp, 3, "PNG"),
    "RGBA": lambda tmp: _rgb_or_rgba(tmp, 4, "PNG"),
    "RGB-BMP": lambda tmp: _rgb_or_rgba(tmp, 3, "BMP"),
    "RGBA-WebP-lossless": lambda tmp: _rgb_or_rgba(tmp, 4, "WEBP", lossless=True, exact=True),
    "CMYK-naive": lambda tmp: _cmyk(tmp, with_profile=False),
    "CMYK-icc": lambda tmp: _cmyk(tmp, with_profile=True),
    "I;16-PNG": _gray16_png,
    "RGB;16-PNG": lambda tmp: _png16(tmp, 3),
    "RGBA;16-PNG": lambda tmp: _png16(tmp, 4),
    "LA;16-PNG": _gray_alpha16_png,
    "RGB;16-PNG-colour-key": _rgb16_colour_key_png,
    "L;16-PNG-colour-key": _gray16_colour_key_png,
    "RGB;16-TIFF": lambda tmp: _tiff(tmp, 3, np.uint16),
    "RGBA;16-TIFF": lambda tmp: _tiff(tmp, 4, np.uint16, alpha=True),
    "LA;16-TIFF": lambda tmp: _tiff(tmp, 2, np.uint16, alpha=True),
    "RGB;16-TIFF-planar": lambda tmp: _tiff(tmp, 3, np.uint16, planar=True),
    "L;32F-TIFF": lambda tmp: _tiff(tmp, 1, np.float32),
    "RGB;32F-TIFF": lambda tmp: _tiff(tmp, 3, np.float32),
    "RGBA;32F-TIFF": lambda tmp: _tiff(tmp, 4, np.float32, alpha=True),
    "F-TIFF-Pillow": _pillow_float_tiff,
    "I-TIFF-fits": lambda tmp: _int32_tiff(tmp, large=False),
    "I-TIFF-large": lambda tmp: _int32_tiff(tmp, large=True),
    "RGB-TIFF-LZW": lambda tmp: _lzw_tiff(tmp, 3),
    "RGBA-TIFF-LZW": lambda tmp: _lzw_tiff(tmp, 4),
    "RGB;16-TIFF-LZW": _lzw_tiff16,
}


def _assert_same(actual: np.ndarray | None, expected: np.ndarray | None) -> None:
    if expected is None:
        assert actual is None
        return
    assert actual is not None
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def _as_png_stores(samples: np.ndarray | None) -> np.ndarray | None:
    if samples is None or samples.dtype != np.float32:
        return samples
    return np.rint(np.clip(samples, 0.0, 1.0) * 65535).astype(np.uint16)


@pytest.mark.parametrize("name", list(CASES))
def test_read_then_write_png_and_tiff_keeps_every_sample(tmp_path: Path, name: str) -> None:
    case = CASES[name](tmp_path)
    image = read_image(case.path)
    _assert_same(image.colour, case.colour)
    _assert_same(image.alpha, case.alpha)
    if case.mode:
        assert image.metadata.source_mode.startswith(case.mode)
    for suffix in ("png", "tif"):
        written = tmp_path / f"out.{suffix}"
        write_image(written, image)
        again = read_image(written)
        if suffix == "png":
            _assert_same(again.colour, _as_png_stores(image.colour))
            _assert_same(again.alpha, _as_png_stores(image.alpha))
        else:
            _assert_same(again.colour, image.colour)
            _assert_same(again.alpha, image.alpha)


def test_cmyk_with_profile_is_colour_managed_and_tagged_srgb(tmp_path: Path) -> None:
    with_profile = read_image(_cmyk(tmp_path, with_profile=True).path)
    assert with_profile.metadata.icc_profile == srgb_profile_bytes()
    assert with_profile.metadata.source_mode == "CMYK"
    # The test profile's cyan ink is lighter than the naive formula's (0, 255, 255).
    assert with_profile.colour[0, 1].tolist() != [0, 255, 255]
    assert with_profile.colour[0, 0].tolist() == [255, 255, 255]
    naive = read_image(_cmyk(tmp_path, with_profile=False).path)
    assert naive.colour[0, 1].tolist() == [0, 255, 255]
    assert naive.metadata.icc_profile is None
    assert "naive" in naive.metadata.source_mode


def test_cmyk_jpeg_with_profile_becomes_srgb(tmp_path: Path) -> None:
    ink = np.zeros((16, 16, 4), np.uint8)
    ink[:, 8:, 0] = 255
    Image.frombytes("CMYK", (16, 16), ink.tobytes()).save(tmp_path / "in.jpg", icc_profile=cmyk_icc_profile())
    image = read_image(tmp_path / "in.jpg")
    assert image.colour.shape == (16, 16, 3)
    assert image.metadata.icc_profile == srgb_profile_bytes()
    assert image.metadata.source_mode == "CMYK"
