"""The backend's float mask and map → Krita's 8-bit mask and a gray layer; the selection's max-merge."""

from __future__ import annotations

import array

import numpy as np
import pytest
from ldl_krita.mask_pixels import map_pixels, mask_bytes, merge_max, unit_to_u8, unit_to_u16
from ldl_krita.pixels import PixelFormat

from ldl_client import RawImage


def floats(values: np.ndarray) -> array.array:
    return array.array("f", values.astype(np.float32).tobytes())


def test_quantising_rounds_half_up_like_numpy() -> None:
    values = np.random.default_rng(0).random(5000).astype(np.float32)
    values[:5] = [0.0, 1.0, 0.5 / 255, 1.5 / 255, 254.5 / 255]
    expected8 = np.floor(values.astype(np.float64) * 255 + 0.5).astype(np.uint8)
    assert unit_to_u8(floats(values)) == expected8.tobytes()
    expected16 = np.floor(values.astype(np.float64) * 65535 + 0.5).astype(np.uint16)
    assert unit_to_u16(floats(values)) == expected16.tobytes()


def test_values_outside_the_unit_range_and_nan_are_clamped() -> None:
    values = np.array([-0.5, 1.5, np.nan, np.inf, 0.25], np.float32)
    assert unit_to_u8(floats(values)) == bytes([0, 255, 0, 255, 64])
    assert np.frombuffer(unit_to_u16(floats(values)), np.uint16).tolist() == [0, 65535, 0, 65535, 16384]


def test_the_mask_becomes_one_byte_per_pixel_white_keeps_detail() -> None:
    mask = np.array([[0.0, 0.25], [0.75, 1.0]], np.float32)
    raw = RawImage(2, 2, 1, "float32", mask.astype("<f4").tobytes())
    assert mask_bytes(raw) == bytes([0, 64, 191, 255])
    with pytest.raises(ValueError, match="1 channel of float32"):
        mask_bytes(RawImage(1, 1, 3, "float32", b"\0" * 12))


@pytest.mark.parametrize(
    ("model", "depth", "dtype", "opaque"),
    [
        ("RGBA", "U8", np.uint8, 255),
        ("RGBA", "U16", np.uint16, 65535),
        ("RGBA", "F16", np.float16, 1.0),
        ("RGBA", "F32", np.float32, 1.0),
        ("GRAYA", "U8", np.uint8, 255),
        ("GRAYA", "F32", np.float32, 1.0),
    ],
)
def test_the_map_becomes_an_opaque_gray_layer_in_the_document_depth(
    model: str, depth: str, dtype: type, opaque: float
) -> None:
    values = np.array([[0.0, 0.2], [0.6, 1.0]], np.float32)
    raw = RawImage(2, 2, 1, "float32", values.astype("<f4").tobytes())
    if np.issubdtype(dtype, np.integer):
        gray = np.floor(values.astype(np.float64) * np.iinfo(dtype).max + 0.5).astype(dtype)
    else:
        gray = values.astype(dtype)
    channels = [gray, gray, gray] if model == "RGBA" else [gray]
    expected = np.stack([*channels, np.full_like(gray, opaque)], axis=-1)
    assert map_pixels(PixelFormat(model, depth), raw) == expected.tobytes()


def test_merge_keeps_the_larger_value_so_feathering_only_adds_detail() -> None:
    rng = np.random.default_rng(1)
    mask, selection = rng.integers(0, 256, (2, 1000), dtype=np.uint8)
    assert merge_max(mask.tobytes(), selection.tobytes()) == np.maximum(mask, selection).tobytes()
    with pytest.raises(ValueError, match="must match"):
        merge_max(b"\0\0", b"\0")
