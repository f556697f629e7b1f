"""Drawable pixels ↔ RawImage for every precision GIMP offers: the babl format asked for, the wire dtype, byte layouts
and byte order, gray and RGB, with and without alpha."""

from __future__ import annotations

import array
import struct
import sys

import pytest
from ldl_gimp.errors import UnsupportedImage
from ldl_gimp.pixels import PixelLayout, babl_format, from_raw, interleave, mean3, split_planes, to_raw

from ldl_client import RawImage

STORAGES = {"u8": "u8", "u16": "u16", "u32": "float", "half": "float", "float": "float", "double": "float"}
TRCS = ("linear", "non-linear", "perceptual")
NATIVE = "<" if sys.byteorder == "little" else ">"


@pytest.mark.parametrize("storage", list(STORAGES))
@pytest.mark.parametrize("trc", TRCS)
@pytest.mark.parametrize("base", ["rgb", "gray"])
@pytest.mark.parametrize("alpha", [False, True])
def test_every_gimp_precision_reads_in_a_perceptual_format(storage: str, trc: str, base: str, alpha: bool) -> None:
    layout = PixelLayout.of(base, f"{storage}-{trc}", alpha)
    babl_type = STORAGES[storage]
    if storage == "u8" and trc == "linear":
        babl_type = "u16"  # linear 8-bit levels need 16 bits once sRGB-encoded
    model = ("Y'" if base == "gray" else "R'G'B'") + ("A" if alpha else "")
    assert layout.read_format == f"{model} {babl_type}"
    assert layout.dtype == {"u8": "uint8", "u16": "uint16", "float": "float32"}[babl_type]
    assert layout.channels == (1 if base == "gray" else 3) + alpha


def test_indexed_images_get_a_clear_message() -> None:
    with pytest.raises(UnsupportedImage, match="indexed") as caught:
        PixelLayout.of("indexed", "u8-non-linear", False)
    assert "Image › Mode › RGB" in caught.value.hint


@pytest.mark.parametrize("precision", ["u64-linear", "u8", "float-srgb"])
def test_an_unknown_precision_is_refused(precision: str) -> None:
    with pytest.raises(ValueError, match="precision"):
        PixelLayout.of("rgb", precision, False)


def native(code: str, values: list[float] | list[int]) -> bytes:
    return struct.pack(f"{NATIVE}{len(values)}{code}", *values)


def test_rgb_u8_without_alpha_goes_as_it_is() -> None:
    layout = PixelLayout.of("rgb", "u8-perceptual", False)
    data = bytes(range(2 * 1 * 3))
    raw = to_raw(layout, data, 2, 1)
    assert (raw.width, raw.height, raw.channels, raw.dtype, raw.data) == (2, 1, 3, "uint8", data)


def test_opaque_alpha_is_dropped_and_real_alpha_kept() -> None:
    layout = PixelLayout.of("rgb", "u8-perceptual", True)
    opaque = bytes([10, 20, 30, 255, 40, 50, 60, 255])
    raw = to_raw(layout, opaque, 2, 1)
    assert (raw.channels, raw.data) == (3, bytes([10, 20, 30, 40, 50, 60]))
    seethrough = bytes([10, 20, 30, 255, 40, 50, 60, 128])
    raw = to_raw(layout, seethrough, 2, 1)
    assert (raw.channels, raw.data) == (4, seethrough)


def test_u16_samples_go_little_endian_on_the_wire() -> None:
    layout = PixelLayout.of("rgb", "u16-linear", True)
    values = [0x0102, 0x0304, 0x0506, 0xFFFF, 0x8000, 0x0001, 0x1234, 0xFFFF]
    raw = to_raw(layout, native("H", values), 2, 1)
    assert (raw.channels, raw.dtype) == (3, "uint16")
    assert raw.data == struct.pack("<6H", 0x0102, 0x0304, 0x0506, 0x8000, 0x0001, 0x1234)
    assert raw.data[:2] == b"\x02\x01", "the API's samples are little-endian"


def test_float_samples_keep_values_beyond_one() -> None:
    layout = PixelLayout.of("rgb", "half-perceptual", True)
    values = [0.25, 1.5, -0.125, 0.5, 0.0, 1.0, 0.75, 1.0]
    raw = to_raw(layout, native("f", values), 2, 1)
    assert (raw.channels, raw.dtype) == (4, "float32"), "alpha 0.5 is real transparency"
    assert raw.samples().tolist() == values


def test_gray_with_alpha_goes_as_rgba_and_comes_back_as_the_mean() -> None:
    layout = PixelLayout.of("gray", "u16-perceptual", True)
    raw = to_raw(layout, native("H", [1000, 65535, 2000, 0]), 2, 1)
    assert (raw.channels, raw.samples().tolist()) == (4, [1000, 1000, 1000, 65535, 2000, 2000, 2000, 0])
    back = RawImage.from_buffer(2, 1, 4, "uint16", native("H", [1, 2, 4, 65535, 3, 3, 3, 7]), byteorder="native")
    babl, data = from_raw(layout, back)
    assert babl == "Y'A u16"
    assert array.array("H", data).tolist() == [2, 65535, 3, 7], "the mean of R, G and B, rounded half up"


def test_gray_without_alpha_goes_as_one_channel() -> None:
    layout = PixelLayout.of("gray", "u8-non-linear", True)
    raw = to_raw(layout, bytes([7, 255, 9, 255]), 2, 1)
    assert (raw.channels, raw.data) == (1, bytes([7, 9]))
    assert from_raw(layout, raw) == ("Y' u8", bytes([7, 9]))


@pytest.mark.parametrize(("channels", "expected"), [(1, "Y' float"), (3, "R'G'B' float"), (4, "R'G'B'A float")])
def test_results_are_written_in_the_format_of_their_channels(channels: int, expected: str) -> None:
    layout = PixelLayout.of("rgb", "float-linear", True)
    values = [i / 10 for i in range(2 * channels)]
    raw = RawImage.from_buffer(2, 1, channels, "float32", struct.pack(f"<{len(values)}f", *values))
    babl, data = from_raw(layout, raw)
    assert babl == expected
    assert data == native("f", values), "samples come back in the machine's order"


def test_a_layer_of_another_dtype_is_refused() -> None:
    layout = PixelLayout.of("rgb", "u8-perceptual", False)
    with pytest.raises(ValueError, match="uint16"):
        from_raw(layout, RawImage(1, 1, 3, "uint16", bytes(6)))


def test_a_short_buffer_is_refused() -> None:
    with pytest.raises(ValueError, match="2x2"):
        to_raw(PixelLayout.of("rgb", "u8-perceptual", False), bytes(11), 2, 2)


@pytest.mark.parametrize(("size", "code"), [(1, "B"), (2, "H"), (4, "f")])
def test_planes_and_interleave_are_inverse(size: int, code: str) -> None:
    values = list(range(12))
    data = array.array(code, values).tobytes()
    planes = split_planes(data, size, 3)
    assert [array.array(code, plane).tolist() for plane in planes] == [values[0::3], values[1::3], values[2::3]]
    assert interleave(planes, size) == data


def test_mean3_rounds_integers_half_up_and_keeps_floats() -> None:
    assert mean3(bytes([0, 1]), bytes([0, 1]), bytes([1, 0]), "uint8") == bytes([0, 1])
    assert array.array("f", mean3(native("f", [0.5]), native("f", [1.0]), native("f", [0.0]), "float32"))[0] == 0.5
    assert babl_format(2, "uint8") == "Y'A u8"
