"""Masks: threshold from the artifact map, brush strokes, rectangles, selections, their order, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldl_backend.artifacts.masks import (
    BlendInputError,
    EditMode,
    PixelBox,
    RectRegion,
    SelectionRegion,
    Stroke,
    combine_mask,
    edit_bounds,
    mask_from_map,
)
from ldl_backend.errors import LdlError

KEEP, REMOVE = EditMode.KEEP, EditMode.REMOVE


def ramp_map(count: int = 1001) -> np.ndarray:
    return np.linspace(0.0, 1.0, count, dtype=np.float32)[None, :]


# --- mask_from_map -------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(threshold=st.floats(0.0, 1.0), softness=st.floats(0.0, 1.0))
def test_mask_is_monotone_in_the_map_and_within_bounds(threshold: float, softness: float) -> None:
    mask = mask_from_map(ramp_map(), threshold, softness)
    assert mask.dtype == np.float32 and mask.shape == (1, 1001)
    assert np.all(np.diff(mask[0]) <= 0), "a higher artifact value must never keep more detail"
    assert mask.min() >= 0.0 and mask.max() <= 1.0


@pytest.mark.parametrize(("threshold", "softness"), [(0.5, 0.1), (0.3, 0.2), (0.05, 0.1), (0.9, 1.0)])
def test_half_at_the_threshold_and_saturated_outside_the_transition(threshold: float, softness: float) -> None:
    values = np.array([[threshold, threshold - softness / 2 - 1e-3, threshold + softness / 2 + 1e-3]], np.float32)
    mask = mask_from_map(values, threshold, softness)
    assert mask[0, 0] == pytest.approx(0.5, abs=1e-5)
    assert mask[0, 1] == 1.0
    assert mask[0, 2] == 0.0


def test_the_transition_is_smooth() -> None:
    mask = mask_from_map(ramp_map(), 0.5, 0.2)[0]
    inside = mask[(ramp_map()[0] > 0.41) & (ramp_map()[0] < 0.59)]
    assert np.all((inside > 0) & (inside < 1))
    assert np.max(np.abs(np.diff(mask))) < 0.02  # no jump anywhere at this sampling (step 0.001, slope ≤ 7.5)


def test_softness_zero_is_a_hard_step() -> None:
    values = np.array([[0.0, 0.29, 0.3, 0.31, 1.0]], np.float32)
    mask = mask_from_map(values, float(np.float32(0.3)), 0.0)
    np.testing.assert_array_equal(mask, [[1, 1, 1, 0, 0]])


def test_map_values_outside_unit_range_fall_on_one_side() -> None:
    mask = mask_from_map(np.array([[-0.5, 1.5]], np.float64), 0.5, 0.1)
    np.testing.assert_array_equal(mask, [[1, 0]])


@pytest.mark.parametrize(
    ("threshold", "softness", "words"),
    [(-0.1, 0.1, "threshold"), (1.5, 0.1, "threshold"), (float("nan"), 0.1, "threshold"), (0.5, 2.0, "softness")],
)
def test_out_of_range_parameters_are_refused(threshold: float, softness: float, words: str) -> None:
    with pytest.raises(BlendInputError, match=words) as caught:
        mask_from_map(ramp_map(), threshold, softness)
    assert caught.value.hint and isinstance(caught.value, ValueError) and isinstance(caught.value, LdlError)


def test_bad_maps_are_refused() -> None:
    with_nan = ramp_map().copy()
    with_nan[0, 10] = np.nan
    with pytest.raises(BlendInputError, match="NaN"):
        mask_from_map(with_nan, 0.5)
    with pytest.raises(BlendInputError, match="float"):
        mask_from_map(np.zeros((4, 4), np.uint8), 0.5)
    with pytest.raises(BlendInputError, match="H×W"):
        mask_from_map(np.zeros((4, 4, 1), np.float32), 0.5)


# --- strokes -------------------------------------------------------------------------------------------------------


def test_keep_stroke_sets_touched_pixels_to_one_and_leaves_far_pixels_exactly() -> None:
    rng = np.random.default_rng(0)
    base = rng.random((64, 64), dtype=np.float32) * 0.5
    stroke = Stroke(((10.5, 32.5), (50.5, 32.5)), radius=4.0, mode=KEEP, hardness=1.0)
    mask = combine_mask(base, [stroke])
    assert np.all(mask[30:36, 10:51] == 1.0)  # within 3 px of the line, fully covered
    box = edit_bounds(stroke, 64, 64)
    outside = np.ones_like(base, bool)
    outside[box.slices()] = False
    np.testing.assert_array_equal(mask[outside], base[outside])
    np.testing.assert_array_equal(mask[:24], base[:24])  # more than radius + 1 away: untouched
    assert np.array_equal(base, combine_mask(base, []))


def test_remove_stroke_sets_touched_pixels_to_zero() -> None:
    mask = combine_mask(np.ones((40, 40), np.float32), [Stroke(((20.0, 20.0),), radius=6.0, mode=REMOVE, hardness=1)])
    assert np.all(mask[16:24, 16:24] == 0.0)
    assert mask[0, 0] == 1.0 and mask[39, 39] == 1.0


def test_stroke_edges_are_anti_aliased_and_soft_brushes_fall_off() -> None:
    hard = combine_mask(np.zeros((41, 41), np.float32), [Stroke(((20.5, 20.5),), 10.0, KEEP, hardness=1.0)])
    row = hard[20]
    edge = row[(row > 0) & (row < 1)]
    assert edge.size > 0, "a hard brush still needs a partially covered rim"
    assert row[20 + 10] == pytest.approx(0.5, abs=1e-6)  # pixel centre exactly on the radius
    soft = combine_mask(np.zeros((41, 41), np.float32), [Stroke(((20.5, 20.5),), 10.0, KEEP, hardness=0.0)])
    right = soft[20, 20:]
    assert right[0] == 1.0 and np.all(np.diff(right) <= 0) and 0 < right[5] < 1
    np.testing.assert_allclose(soft, soft.T, atol=1e-6)  # a round dab is symmetric


def test_opacity_scales_coverage_and_strokes_do_not_build_up_on_themselves() -> None:
    zigzag = ((5.0, 5.0), (30.0, 5.0), (5.0, 5.5), (30.0, 5.5))  # passes over the same pixels three times
    mask = combine_mask(np.zeros((20, 40), np.float32), [Stroke(zigzag, 3.0, KEEP, hardness=1.0, opacity=0.4)])
    assert mask.max() == pytest.approx(0.4)
    twice = combine_mask(mask, [Stroke(((17.5, 5.5),), 1.0, KEEP, hardness=1.0, opacity=0.5)])
    assert twice[5, 17] == pytest.approx(0.4 + 0.5 * 0.6)  # painting over: m + c·(1 − m)


def distance_to_polyline(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Exact distance from every pixel centre to the polyline, all segments at once (float64)."""
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    pixel = np.stack([xs, ys], -1)[:, :, None, :]
    start, end = points[:-1], points[1:]
    direction = end - start
    along = np.clip(((pixel - start) * direction).sum(-1) / (direction * direction).sum(-1), 0, 1)
    nearest = start + along[..., None] * direction
    return np.sqrt(((pixel - nearest) ** 2).sum(-1)).min(-1)


@pytest.mark.parametrize("hardness", [0.0, 0.5, 0.9])
def test_stroke_coverage_follows_the_distance_to_the_polyline(hardness: float) -> None:
    rng = np.random.default_rng(7)
    # A tablet-like stroke: a point every pixel with jitter, so simplification drops some and keeps others.
    points = np.stack([np.linspace(8, 56, 49), 30 + 6 * np.sin(np.linspace(0, 3, 49))], -1)
    points += rng.normal(0, 0.3, points.shape)
    radius = 7.0
    mask = combine_mask(np.zeros((60, 64), np.float32), [Stroke(tuple(map(tuple, points)), radius, KEEP, hardness)])
    outer, inner = radius + 0.5, min(radius * hardness, radius - 0.5)
    u = np.clip((outer - distance_to_polyline(points, 60, 64)) / (outer - inner), 0, 1)
    # Simplification moves the line by at most 0.05 px; the falloff's slope turns that into this much coverage.
    np.testing.assert_allclose(mask, u * u * (3 - 2 * u), atol=1.5 * 0.05 / (outer - inner) + 1e-5)


def test_order_of_edits_matters() -> None:
    base = np.full((30, 30), 0.5, np.float32)
    keep = Stroke(((15.0, 15.0),), 5.0, KEEP, hardness=1.0)
    remove = RectRegion(10, 10, 10, 10, REMOVE)
    assert combine_mask(base, [keep, remove])[15, 15] == 0.0
    assert combine_mask(base, [remove, keep])[15, 15] == 1.0


def test_strokes_off_the_image_and_bounds() -> None:
    base = np.zeros((10, 10), np.float32)
    stroke = Stroke(((-50.0, -50.0), (-40.0, -45.0)), 3.0, KEEP)
    assert edit_bounds(stroke, 10, 10).is_empty
    np.testing.assert_array_equal(combine_mask(base, [stroke]), base)
    partly = Stroke(((0.0, 0.0),), 3.0, KEEP, hardness=1)
    assert edit_bounds(partly, 10, 10) == PixelBox(0, 0, 4, 4)
    assert combine_mask(base, [partly])[0, 0] == 1.0


# --- regions -------------------------------------------------------------------------------------------------------


def test_integer_rect_covers_whole_pixels_exactly() -> None:
    mask = combine_mask(np.zeros((20, 30), np.float32), [RectRegion(5, 4, 10, 6, KEEP)])
    expected = np.zeros((20, 30), np.float32)
    expected[4:10, 5:15] = 1.0
    np.testing.assert_array_equal(mask, expected)


def test_fractional_rect_edges_take_the_covered_area() -> None:
    mask = combine_mask(np.zeros((10, 10), np.float32), [RectRegion(2.25, 3.0, 4.5, 2.0, KEEP)])
    np.testing.assert_allclose(mask[3, 1:8], [0, 0.75, 1, 1, 1, 0.75, 0], atol=1e-6)


def test_feathered_rect_ramps_across_its_edge() -> None:
    mask = combine_mask(np.ones((40, 40), np.float32), [RectRegion(10, 10, 20, 20, REMOVE, feather=8)])
    assert mask[20, 20] == 0.0 and mask[0, 0] == 1.0
    row = mask[20, 2:19]
    assert np.all(np.diff(row) <= 0)  # 1 outside → 0 inside across the left edge
    assert 0.5 < mask[20, 9] < 0.7 and 0.3 < mask[20, 10] < 0.5  # the ramp is centred on the edge at x = 10
    assert mask[20, 5] == 1.0 and mask[20, 15] == 0.0  # 4 px each side of the edge


def test_selection_region_uses_host_coverage() -> None:
    selection = np.zeros((8, 8), np.uint8)
    selection[2:4, 2:6] = 255
    selection[5, 5] = 128
    mask = combine_mask(np.zeros((8, 8), np.float32), [SelectionRegion(selection, KEEP)])
    assert np.all(mask[2:4, 2:6] == 1.0)
    assert mask[5, 5] == pytest.approx(128 / 255)
    assert mask.sum() == pytest.approx(8 + 128 / 255)
    assert edit_bounds(SelectionRegion(selection, KEEP), 8, 8) == PixelBox(2, 2, 6, 6)
    boolean = SelectionRegion(selection > 200, REMOVE)
    assert np.all(combine_mask(np.ones((8, 8), np.float32), [boolean])[2:4, 2:6] == 0)


def test_selection_is_copied_and_read_only() -> None:
    source = np.ones((4, 4), np.float32)
    region = SelectionRegion(source, KEEP)
    source[:] = 0
    assert region.coverage.min() == 1.0 and not region.coverage.flags.writeable


# --- bad inputs ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Stroke((), 3.0, KEEP), "at least one point"),
        (lambda: Stroke(((1.0, float("nan")),), 3.0, KEEP), "finite"),
        (lambda: Stroke(((1.0,),), 3.0, KEEP), r"\(x, y\) pairs"),  # type: ignore[arg-type]
        (lambda: Stroke(((1.0, 1.0),), 0.0, KEEP), "radius"),
        (lambda: Stroke(((1.0, 1.0),), 2.0, KEEP, hardness=1.5), "hardness"),
        (lambda: Stroke(((1.0, 1.0),), 2.0, KEEP, opacity=-0.1), "opacity"),
        (lambda: Stroke(((1.0, 1.0),), 2.0, "keep"), "EditMode"),  # type: ignore[arg-type]
        (lambda: RectRegion(0, 0, -1, 5, KEEP), "width"),
        (lambda: RectRegion(0, 0, 1, 5, KEEP, feather=float("inf")), "feather"),
        (lambda: SelectionRegion(np.full((3, 3), 1.5, np.float32), KEEP), r"\[0, 1\]"),
        (lambda: SelectionRegion(np.full((3, 3), np.nan, np.float32), KEEP), "NaN"),
        (lambda: SelectionRegion(np.zeros((3, 3, 1), np.float32), KEEP), "H×W"),
        (lambda: SelectionRegion(np.zeros((3, 3), np.int64), KEEP), "int64"),
        (lambda: PixelBox(5, 0, 4, 1), "negative"),
    ],
)
def test_bad_edits_are_refused_with_a_hint(make: object, words: str) -> None:
    with pytest.raises(BlendInputError, match=words) as caught:
        make()  # type: ignore[operator]
    assert caught.value.hint


def test_bad_base_masks_and_selections_of_the_wrong_size() -> None:
    with pytest.raises(BlendInputError, match="NaN"):
        combine_mask(np.full((4, 4), np.nan, np.float32), [])
    with pytest.raises(BlendInputError, match=r"\[0, 1\].*-0.5 to 1.0"):
        combine_mask(np.array([[-0.5, 1.0]], np.float32), [])
    with pytest.raises(BlendInputError, match="uint8"):
        combine_mask(np.zeros((4, 4), np.uint8), [])
    with pytest.raises(BlendInputError, match="H×W"):
        combine_mask(np.zeros((4, 4, 3), np.float32), [])
    with pytest.raises(BlendInputError, match="selection is 3×3 but the mask is 4×4"):
        combine_mask(np.zeros((4, 4), np.float32), [SelectionRegion(np.ones((3, 3), bool), KEEP)])


def test_pixel_box_geometry() -> None:
    box = PixelBox(2, 3, 6, 9)
    assert (box.width, box.height) == (4, 6)
    assert box.union(PixelBox(0, 0, 0, 0)) == box
    assert box.union(PixelBox(5, 1, 8, 4)) == PixelBox(2, 1, 8, 9)
    assert PixelBox(-5, -5, 20, 20).clipped(10, 8) == PixelBox(0, 0, 8, 10)
    assert PixelBox(12, 0, 15, 3).clipped(10, 10).is_empty
