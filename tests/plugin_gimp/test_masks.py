"""The mask and map layers' samples, and the selection blend: max(mask, selection), written so that GIMP's merge
through the selection leaves exactly that."""

from __future__ import annotations

import array
import math
import struct

import pytest
from ldl_gimp.masks import MAP_FORMAT, MASK_FORMAT, map_pixels, mask_pixels, merge_coverage, through_selection

from ldl_client import RawImage


def floats(values: list[float]) -> bytes:
    return array.array("f", values).tobytes()


def values(data: bytes) -> list[float]:
    return array.array("f", data).tolist()


def gray(values: list[float]) -> RawImage:
    return RawImage(len(values), 1, 1, "float32", struct.pack(f"<{len(values)}f", *values))


def test_the_mask_is_written_as_linear_coverage_white_keeps_detail() -> None:
    babl, data = mask_pixels(gray([0.0, 0.25, 1.0]))
    assert babl == MASK_FORMAT == "Y float", "GIMP's layer masks are linear coverage"
    assert values(data) == [0.0, 0.25, 1.0]


def test_the_map_is_written_as_perceptual_gray() -> None:
    babl, data = map_pixels(gray([0.5, 0.125]))
    assert babl == MAP_FORMAT == "Y' float"
    assert values(data) == [0.5, 0.125]


def test_values_outside_the_unit_range_are_clamped() -> None:
    _, data = mask_pixels(gray([-0.5, 1.5, math.nan, 0.5]))
    assert values(data) == [0.0, 1.0, 0.0, 0.5]


@pytest.mark.parametrize("layer", [RawImage(1, 1, 3, "float32", bytes(12)), RawImage(1, 1, 1, "uint8", bytes(1))])
def test_a_mask_of_another_shape_is_refused(layer: RawImage) -> None:
    with pytest.raises(ValueError, match="1 channel of float32"):
        mask_pixels(layer)


def test_merge_is_the_max_of_mask_and_selection() -> None:
    mask = floats([0.0, 0.25, 0.75, 1.0, 0.5])
    selection = floats([1.0, 0.5, 0.5, 0.0, 0.0])
    assert values(merge_coverage(mask, selection)) == [1.0, 0.5, 0.75, 1.0, 0.5]
    merged = merge_coverage(mask, selection)
    assert merge_coverage(merged, selection) == merged, "blending twice changes nothing"


def test_merge_refuses_areas_of_different_sizes() -> None:
    with pytest.raises(ValueError, match="must match"):
        merge_coverage(floats([0.0]), floats([0.0, 1.0]))


def gimp_merge(current: bytes, shadow: bytes, selection: bytes) -> list[float]:
    """What Gimp.Drawable.merge_shadow leaves (seen in GIMP 3.0.4): current + selection·(shadow − current)."""
    return [c + s * (w - c) for c, w, s in zip(values(current), values(shadow), values(selection), strict=True)]


def test_the_shadow_makes_gimps_merge_through_the_selection_leave_the_max() -> None:
    current = floats([0.0, 0.0, 0.1, 0.6, 0.3, 0.9, 0.2])
    selection = floats([1.0, 0.5, 0.1, 0.25, 0.0, 1.0, 0.75])
    wanted = merge_coverage(current, selection)
    shadow = through_selection(current, wanted, selection)
    assert all(0.0 <= v <= 1.0 for v in values(shadow))
    assert gimp_merge(current, shadow, selection) == pytest.approx(values(wanted), abs=1e-6)
    # Writing the wanted values straight would be wrong under a feathered selection: that is why the shadow differs.
    assert gimp_merge(current, wanted, selection) != pytest.approx(values(wanted), abs=1e-6)
