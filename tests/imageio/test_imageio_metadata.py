"""Orientation, colour profile, EXIF and resolution survive reading and writing."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from imageio_helpers import exif_with_orientation, gradient, srgb_icc, write_cv2_png
from PIL import Image, ImageCms, ImageOps

from ldl_backend.imageio import ImageData, ImageMetadata, probe_image, read_image, write_image
from ldl_backend.imageio.colour_profiles import srgb_profile_bytes
from ldl_backend.imageio.orientation import exif_orientation, reset_orientation
from ldl_backend.imageio.png_chunks import iter_chunks, read_iccp


def test_exif_rotated_jpeg_is_turned_upright_and_reset(tmp_path: Path) -> None:
    stored = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high, as the camera stored it
    stored[:, :20] = (250, 10, 10)  # left half red
    stored[:, 20:] = (10, 10, 250)  # right half blue
    path = tmp_path / "in.jpg"
    Image.fromarray(stored).save(path, exif=exif_with_orientation(6), quality=95)

    info = probe_image(path)
    assert (info.width, info.height) == (20, 40)
    image = read_image(path)
    assert (image.width, image.height) == (20, 40)
    with Image.open(path) as raw:
        decoded = np.asarray(raw)  # the same decoder, orientation not applied
        upright = np.asarray(ImageOps.exif_transpose(raw))
    np.testing.assert_array_equal(image.colour, np.rot90(decoded, k=-1))  # orientation 6: turn clockwise
    np.testing.assert_array_equal(image.colour, upright)
    assert image.colour[5, 10, 0] > 200  # the red (left) half is now on top
    assert image.colour[35, 10, 2] > 200
    assert exif_orientation(image.metadata.exif) == 1

    for suffix in ("jpg", "png", "webp"):
        write_image(tmp_path / f"out.{suffix}", image)
        with Image.open(tmp_path / f"out.{suffix}") as written:
            assert written.size == (20, 40)
            exif = written.getexif()
            assert exif.get(0x0112) == 1
            assert exif.get(0x010F) == "LDL test camera"  # the rest of the EXIF is kept


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path: Path, orientation: int, fmt: str) -> None:
    stored = gradient(3, 5, 3, np.uint8)
    path = tmp_path / "in.img"
    Image.fromarray(stored).save(path, format=fmt, exif=exif_with_orientation(orientation), lossless=True)
    with Image.open(path) as raw:
        expected = np.asarray(ImageOps.exif_transpose(raw))
    image = read_image(path)
    np.testing.assert_array_equal(image.colour, expected)
    assert (probe_image(path).width, probe_image(path).height) == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_applies_to_16_bit_png_and_tiff_and_alpha(tmp_path: Path, orientation: int) -> None:
    stored = gradient(3, 5, 4, np.uint16)
    write_cv2_png(tmp_path / "raw.png", stored)
    png = read_image(tmp_path / "raw.png")
    # Add the orientation as an eXIf chunk through our writer, then read it back.
    write_image(
        tmp_path / "turned.png",
        ImageData(png.colour, png.alpha, ImageMetadata(exif=exif_with_orientation(orientation))),
    )
    tifffile.imwrite(
        tmp_path / "turned.tif",
        stored,
        photometric="rgb",
        extrasamples=["UNASSALPHA"],
        metadata=None,
        extratags=[(274, "H", 1, orientation, True)],
    )
    turns = {3: 2, 6: -1, 8: 1}[orientation]
    for name in ("turned.png", "turned.tif"):
        image = read_image(tmp_path / name)
        np.testing.assert_array_equal(image.colour, np.rot90(stored[:, :, :3], k=turns))
        np.testing.assert_array_equal(image.alpha, np.rot90(stored[:, :, 3], k=turns))


def test_reset_orientation_patches_in_place() -> None:
    exif = exif_with_orientation(8)
    reset = reset_orientation(exif)
    assert len(reset) == len(exif)
    assert exif_orientation(reset) == 1
    assert sum(a != b for a, b in zip(exif, reset, strict=True)) == 1  # one byte changed, the rest is intact
    assert reset_orientation(b"not exif") == b"not exif"
    assert exif_orientation(b"Exif\x00\x00II*\x00\xff\xff\xff\x7f") == 1  # offset past the end: no crash


def _profile_in(path: Path) -> bytes | None:
    data = path.read_bytes()
    if path.suffix == ".png":
        profiles = [read_iccp(chunk.data) for chunk in iter_chunks(io.BytesIO(data)) if chunk.type == b"iCCP"]
        return profiles[0] if profiles else None
    if path.suffix == ".tif":
        with tifffile.TiffFile(path) as tiff:
            tag = tiff.pages.first.tags.get(34675)
            return bytes(tag.value) if tag is not None else None
    with Image.open(path) as image:
        return image.info.get("icc_profile")


@pytest.mark.parametrize(
    ("dtype", "suffix"),
    [
        (np.uint8, "png"),
        (np.uint16, "png"),
        (np.float32, "png"),
        (np.uint8, "tif"),
        (np.uint16, "tif"),
        (np.float32, "tif"),
        (np.uint8, "jpg"),
        (np.uint16, "jpg"),
        (np.uint8, "webp"),
    ],
)
def test_icc_profile_is_written_into_every_format(tmp_path: Path, dtype: type[np.generic], suffix: str) -> None:
    profile = srgb_icc()
    image = ImageData(gradient(6, 6, 3, dtype), metadata=ImageMetadata(icc_profile=profile))
    path = tmp_path / f"out.{suffix}"
    write_image(path, image)
    assert _profile_in(path) == profile
    assert read_image(path).metadata.icc_profile == profile


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF"])
def test_icc_profile_is_read_from_every_format(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "in.img"
    Image.fromarray(gradient(6, 6, 3, np.uint8)).save(path, format=fmt, icc_profile=srgb_icc())
    assert read_image(path).metadata.icc_profile == srgb_icc()


def test_sixteen_bit_png_metadata_chunks_come_right_after_ihdr(tmp_path: Path) -> None:
    meta = ImageMetadata(icc_profile=srgb_icc(), exif=exif_with_orientation(1), dpi=(300.0, 150.0))
    write_image(tmp_path / "out.png", ImageData(gradient(4, 4, 3, np.uint16), metadata=meta))
    chunks = list(iter_chunks(io.BytesIO((tmp_path / "out.png").read_bytes())))  # every CRC checked
    assert [c.type for c in chunks[:4]] == [b"IHDR", b"iCCP", b"eXIf", b"pHYs"]
    with Image.open(tmp_path / "out.png") as pillow:  # another reader agrees
        assert pillow.info["icc_profile"] == srgb_icc()
        assert pillow.getexif()[0x010F] == "LDL test camera"
        assert [round(v) for v in pillow.info["dpi"]] == [300, 150]


@pytest.mark.parametrize("suffix", ["png", "tif", "jpg"])
def test_resolution_round_trips(tmp_path: Path, suffix: str) -> None:
    image = ImageData(gradient(4, 4, 3, np.uint8), metadata=ImageMetadata(dpi=(300.0, 300.0)))
    write_image(tmp_path / f"out.{suffix}", image)
    dpi = read_image(tmp_path / f"out.{suffix}").metadata.dpi
    assert dpi is not None
    assert dpi == pytest.approx((300.0, 300.0), abs=0.1)


def test_source_format_and_mode_are_recorded(tmp_path: Path) -> None:
    Image.fromarray(gradient(4, 4, 3, np.uint8)).save(tmp_path / "in.webp", lossless=True)
    meta = read_image(tmp_path / "in.webp").metadata
    assert (meta.source_format, meta.source_mode) == ("WEBP", "RGB")


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("orientation", [2, 6, 7])
def test_orientation_of_lzw_tiff_on_the_fallback_paths(tmp_path: Path, channels: int, orientation: int) -> None:
    # LZW needs imagecodecs in tifffile: RGB falls back to OpenCV, RGBA to Pillow, and both of those apply a
    # TIFF's orientation themselves (OpenCV 5, Pillow 13). It must be applied exactly once.
    stored = gradient(3, 5, channels, np.uint8)
    Image.fromarray(stored).save(tmp_path / "in.tif", compression="tiff_lzw", tiffinfo={274: orientation})
    upright = {
        2: lambda a: a[:, ::-1],
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: np.rot90(a, k=2).swapaxes(0, 1),
    }
    expected = upright[orientation](stored)
    image = read_image(tmp_path / "in.tif")
    np.testing.assert_array_equal(image.colour, expected[:, :, :3])
    if channels == 4:
        np.testing.assert_array_equal(image.alpha, expected[:, :, 3])


def test_orientation_of_a_palette_tiff_decoded_by_pillow(tmp_path: Path) -> None:
    indices = (gradient(3, 5, 1, np.uint8)[:, :, 0] % 4).astype(np.uint8)
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    image = Image.frombytes("P", (5, 3), indices.tobytes())
    image.putpalette(palette.tobytes())
    image.save(tmp_path / "in.tif", tiffinfo={274: 6})
    np.testing.assert_array_equal(read_image(tmp_path / "in.tif").colour, np.rot90(palette[indices], k=-1))


def test_the_srgb_profile_we_attach_is_the_same_in_every_run() -> None:
    command = "from ldl_backend.imageio.colour_profiles import srgb_profile_bytes as p; print(p().hex())"
    other_run = subprocess.run([sys.executable, "-c", command], check=True, capture_output=True, text=True)
    assert bytes.fromhex(other_run.stdout.strip()) == srgb_profile_bytes()
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile_bytes())))
