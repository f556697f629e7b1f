"""Krita pixel bytes ↔ RawImage for every depth, checked against numpy: channel order, alpha, half floats, gray."""

from __future__ import annotations

import numpy as np
import pytest
from ldl_krita.errors import UnsupportedDocument
from ldl_krita.pixels import PixelFormat, float_to_half, from_raw, half_to_float, mean3, to_raw

from ldl_client import RawImage

DEPTHS = {"U8": np.uint8, "U16": np.uint16, "F16": np.float16, "F32": np.float32}
WIRE = {"U8": np.uint8, "U16": np.uint16, "F16": np.float32, "F32": np.float32}
H, W = 5, 7


def random_pixels(depth: str, channels: int, opaque: bool, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dtype = DEPTHS[depth]
    if depth in ("U8", "U16"):
        top = np.iinfo(dtype).max
        pixels = rng.integers(0, top, (H, W, channels), endpoint=True).astype(dtype)
        if opaque:
            pixels[..., -1] = top
    else:
        pixels = rng.random((H, W, channels)).astype(dtype)
        if opaque:
            pixels[..., -1] = 1.0
    return pixels


def krita_bytes(pixels: np.ndarray, depth: str) -> bytes:
    """How Krita hands these RGBA/GA pixels out: integer RGBA as B, G, R, A."""
    if pixels.shape[-1] == 4 and depth in ("U8", "U16"):
        pixels = pixels[..., [2, 1, 0, 3]]
    return np.ascontiguousarray(pixels).tobytes()


def raw_array(image: RawImage) -> np.ndarray:
    return np.frombuffer(image.data, dtype=np.dtype(image.dtype).newbyteorder("<")).reshape(
        image.height, image.width, image.channels
    )


@pytest.mark.parametrize("depth", list(DEPTHS))
@pytest.mark.parametrize("opaque", [True, False])
def test_rgba_goes_out_as_rgb_or_rgba_and_comes_back_identical(depth: str, opaque: bool) -> None:
    fmt = PixelFormat.of("RGBA", depth)
    pixels = random_pixels(depth, 4, opaque)
    data = krita_bytes(pixels, depth)
    image = to_raw(fmt, data, W, H)
    expected = pixels.astype(WIRE[depth])
    assert image.dtype == np.dtype(WIRE[depth]).name
    if opaque:
        assert image.channels == 3
        np.testing.assert_array_equal(raw_array(image), expected[..., :3])
    else:
        assert image.channels == 4
        np.testing.assert_array_equal(raw_array(image), expected)
    assert from_raw(fmt, image) == data


@pytest.mark.parametrize("depth", list(DEPTHS))
@pytest.mark.parametrize("opaque", [True, False])
def test_gray_goes_out_as_gray_or_repeated_rgba_and_comes_back_identical(depth: str, opaque: bool) -> None:
    fmt = PixelFormat.of("GRAYA", depth)
    pixels = random_pixels(depth, 2, opaque, seed=1)
    data = krita_bytes(pixels, depth)
    image = to_raw(fmt, data, W, H)
    wire = pixels.astype(WIRE[depth])
    if opaque:
        assert image.channels == 1
        np.testing.assert_array_equal(raw_array(image)[..., 0], wire[..., 0])
    else:
        assert image.channels == 4
        gray, alpha = wire[..., :1], wire[..., 1:]
        np.testing.assert_array_equal(raw_array(image), np.concatenate([gray, gray, gray, alpha], axis=-1))
    assert from_raw(fmt, image) == data


@pytest.mark.parametrize("depth", list(DEPTHS))
def test_rgb_and_gray_layers_fill_rgba_with_opaque_alpha(depth: str) -> None:
    fmt = PixelFormat.of("RGBA", depth)
    wire = WIRE[depth]
    rgb = random_pixels("F32" if depth.startswith("F") else depth, 3, opaque=False, seed=2).astype(wire)
    rgb_image = RawImage.from_buffer(W, H, 3, np.dtype(wire).name, rgb.tobytes(), byteorder="native")  # type: ignore[arg-type]
    one = np.iinfo(wire).max if depth in ("U8", "U16") else 1.0
    rgba = np.concatenate([rgb, np.full((H, W, 1), one, wire)], axis=-1)
    assert from_raw(fmt, rgb_image) == krita_bytes(rgba.astype(DEPTHS[depth]), depth)
    gray = rgb[..., :1]
    gray_image = RawImage.from_buffer(W, H, 1, np.dtype(wire).name, gray.tobytes(), byteorder="native")  # type: ignore[arg-type]
    expected = np.concatenate([gray, gray, gray, np.full((H, W, 1), one, wire)], axis=-1)
    assert from_raw(fmt, gray_image) == krita_bytes(expected.astype(DEPTHS[depth]), depth)


@pytest.mark.parametrize("depth", ["U8", "U16"])
def test_colour_layers_fill_gray_with_the_rounded_mean_like_the_backend(depth: str) -> None:
    fmt = PixelFormat.of("GRAYA", depth)
    rgba = random_pixels(depth, 4, opaque=False, seed=3)
    image = RawImage.from_buffer(W, H, 4, np.dtype(DEPTHS[depth]).name, rgba.tobytes(), byteorder="native")  # type: ignore[arg-type]
    total = rgba[..., :3].astype(np.int64).sum(axis=-1)
    gray = ((total + 1) // 3).astype(DEPTHS[depth])  # round half up: a third never rounds, two thirds do
    np.testing.assert_array_equal(np.round(total / 3.0), (total + 1) // 3)
    expected = np.stack([gray, rgba[..., 3]], axis=-1)
    assert from_raw(fmt, image) == expected.tobytes()


@pytest.mark.parametrize(("dtype", "top"), [(np.uint8, 255), (np.uint16, 65535)])
def test_integer_mean_is_exact_over_the_whole_range(dtype: type, top: int) -> None:
    rng = np.random.default_rng(4)
    planes = rng.integers(0, top, (3, 20000), endpoint=True).astype(dtype)
    planes[:, :4] = [[top, top, top, 0], [top, top, 0, 0], [top, top - 1, 0, 1]]  # the extremes
    first, second, third = (p.tobytes() for p in planes)
    got = np.frombuffer(mean3(first, second, third, np.dtype(dtype).name), dtype)
    expected = (planes.astype(np.int64).sum(axis=0) + 1) // 3
    np.testing.assert_array_equal(got, expected)


def test_float_mean() -> None:
    planes = np.random.default_rng(5).random((3, 100)).astype(np.float32)
    first, second, third = (p.tobytes() for p in planes)
    got = np.frombuffer(mean3(first, second, third, "float32"), np.float32)
    np.testing.assert_allclose(got, planes.mean(axis=0), rtol=1e-6)


def test_half_floats_match_numpy_and_clamp_past_their_range() -> None:
    values = np.array([0.0, 1.0, 0.1, -2.5, 1e-6, 65504.0, 7e4, -1e9, np.inf, -np.inf, np.nan], np.float32)
    halves = np.frombuffer(float_to_half(values.tobytes()), np.float16)
    with np.errstate(over="ignore"):
        expected = values.astype(np.float16)
    expected[6], expected[7] = 65504.0, -65504.0  # numpy overflows to infinity; the plugin keeps the largest half
    np.testing.assert_array_equal(halves, expected)
    back = np.frombuffer(half_to_float(halves.tobytes()), np.float32)
    np.testing.assert_array_equal(back, halves.astype(np.float32))


@pytest.mark.parametrize(("model", "depth"), [("CMYKA", "U8"), ("LABA", "U16"), ("RGBA", "U32"), ("XYZA", "F32")])
def test_other_colour_models_are_refused_with_a_hint(model: str, depth: str) -> None:
    with pytest.raises(UnsupportedDocument) as caught:
        PixelFormat.of(model, depth)
    assert model in caught.value.message and "Convert Image Color Space" in caught.value.hint


def test_wrong_sizes_and_dtypes_are_value_errors() -> None:
    fmt = PixelFormat.of("RGBA", "U8")
    with pytest.raises(ValueError, match="3x2 pixels"):
        to_raw(fmt, b"\0" * 10, 3, 2)
    with pytest.raises(ValueError, match="uint16"):
        from_raw(fmt, RawImage(1, 1, 3, "uint16", b"\0" * 6))
