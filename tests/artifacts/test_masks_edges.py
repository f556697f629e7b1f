"""Masks at their edges: what each refusal names, bounds that are inclusive, float32 out whatever comes in, empty
and one-row selections, edits that leave the image, the exact feather ramp, and how strokes are simplified.

Written for the survivors of mutation testing (tests/MUTATION.md, "### masks"): each test pins a behaviour that a
small slip in masks.py would change while tests/artifacts/test_masks.py still passed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ldl_backend.artifacts.masks import (
    BlendInputError,
    EditMode,
    PixelBox,
    RectRegion,
    SelectionRegion,
    Stroke,
    _simplified,  # pyright: ignore[reportPrivateUsage]
    check_mask,
    combine_mask,
    edit_bounds,
    edit_coverage,
    mask_from_map,
)

KEEP, REMOVE = EditMode.KEEP, EditMode.REMOVE
RAMP = np.linspace(0.0, 1.0, 11, dtype=np.float32)[None, :]


# --- refusals ------------------------------------------------------------------------------------------------------

# The message is what the user acts on: it must name the value that is wrong, its bound, and what was passed.
REFUSALS: list[tuple[Callable[[], object], str]] = [
    (lambda: Stroke(((1, 1),), 2.0, KEEP, hardness=1.5), "hardness must be between 0 and 1, not 1.5"),
    (lambda: Stroke(((1, 1),), 2.0, KEEP, opacity=-0.1), "opacity must be between 0 and 1, not -0.1"),
    (lambda: Stroke(((1, 1),), 0.0, KEEP), "the brush radius must be positive, not 0.0"),
    (lambda: Stroke(((1, 1),), 2.0, "keep"), "mode must be an EditMode, not 'keep'"),  # type: ignore[arg-type]
    (lambda: mask_from_map(RAMP, 1.5), "threshold must be between 0 and 1, not 1.5"),
    (lambda: mask_from_map(RAMP, 0.5, 2.0), "softness must be between 0 and 1, not 2.0"),
    (lambda: RectRegion(float("nan"), 0, 1, 1, KEEP), "x must be a finite number, not nan"),
    (lambda: RectRegion(0, float("inf"), 1, 1, KEEP), "y must be a finite number, not inf"),
    (lambda: RectRegion(0, 0, -1.0, 1, KEEP), "width must be a finite number and at least 0.0, not -1.0"),
    (lambda: RectRegion(0, 0, 1, -1.0, KEEP), "height must be a finite number and at least 0.0, not -1.0"),
    (lambda: RectRegion(0, 0, 1, 1, KEEP, feather=-1.0), "feather must be a finite number and at least 0.0, not -1.0"),
    (
        lambda: SelectionRegion(np.full((3, 3), 1.5, np.float32), KEEP),
        "the selection must lie in [0, 1], but its values run from 1.5 to 1.5",
    ),
    (lambda: SelectionRegion(np.full((3, 3), np.nan, np.float32), KEEP), "the selection contains NaN"),
    (lambda: check_mask(np.zeros((3, 3), np.float32), 4, 4), "the mask is 3×3 but the image is 4×4"),
    (lambda: check_mask(np.zeros((4, 4), np.uint8), 4, 4), "the mask must be float in [0, 1] or bool, not uint8"),
    (lambda: check_mask(np.array([[np.nan]]), 1, 1, "weight"), "the weight contains NaN"),  # one pixel is checked too
    (lambda: check_mask(np.array([[1.5]]), 1, 1), "the mask must lie in [0, 1], but its values run from 1.5 to 1.5"),
    (lambda: mask_from_map(np.array(0.5, np.float32), 0.5), "the artifact map must be H×W, not a scalar"),
    (lambda: mask_from_map(np.zeros((4, 4, 1), np.float32), 0.5), "the artifact map must be H×W, not 4×4×1"),
    (lambda: mask_from_map(np.zeros((2, 2), np.uint8), 0.5), "the artifact map must be float, not uint8"),
    (lambda: mask_from_map(np.full((2, 2), np.nan, np.float32), 0.5), "the artifact map contains NaN"),
    (lambda: combine_mask(np.zeros((4, 4, 3), np.float32), []), "the base mask must be H×W, not 4×4×3"),
    (lambda: combine_mask(np.full((2, 2), np.nan, np.float32), []), "the base mask contains NaN"),
    (
        lambda: combine_mask(np.zeros((4, 4), np.float32), [SelectionRegion(np.ones((3, 3), bool), KEEP)]),
        "the selection is 3×3 but the mask is 4×4",
    ),
]


@pytest.mark.parametrize(("make", "message"), REFUSALS)
def test_each_refusal_names_the_value_its_bound_and_gives_a_hint(make: Callable[[], object], message: str) -> None:
    with pytest.raises(BlendInputError) as caught:
        make()
    assert caught.value.message == message
    assert caught.value.hint


@pytest.mark.parametrize(
    "make",
    [
        lambda: RectRegion(0, 0, 0.5, 0.5, KEEP),  # less than a pixel is still a rectangle
        lambda: RectRegion(-3, -3, 0, 0, KEEP, feather=0),
        lambda: Stroke(((0, 0),), 1e-3, KEEP, hardness=0, opacity=0),
        lambda: Stroke(((0, 0),), 1.0, KEEP, hardness=1, opacity=1),
        lambda: mask_from_map(RAMP, 0.0, 0.0),
        lambda: mask_from_map(RAMP, 1.0, 1.0),
        lambda: check_mask(np.zeros((0, 0), np.float32), 0, 0),  # an empty mask has nothing out of range
        lambda: SelectionRegion(np.zeros((0, 0), np.float32), KEEP),
    ],
)
def test_values_on_the_bounds_are_accepted(make: Callable[[], object]) -> None:
    make()


# --- dtypes --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.bool_])
def test_masks_are_float32_whatever_comes_in(dtype: type) -> None:
    values = np.array([[0, 1], [1, 0]], dtype)
    checked = check_mask(values, 2, 2)
    assert checked.dtype == np.float32 and checked.flags.c_contiguous
    np.testing.assert_array_equal(checked, values.astype(np.float32))
    combined = combine_mask(values, [RectRegion(0, 0, 1, 1, KEEP)])
    assert combined.dtype == np.float32 and combined[0, 0] == 1.0
    if dtype is not np.bool_:
        assert mask_from_map(values, 0.5).dtype == np.float32


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (np.array([[True, False]]), [1.0, 0.0]),
        (np.array([[255, 51]], np.uint8), [1.0, 0.2]),
        (np.array([[65535, 13107]], np.uint16), [1.0, 0.2]),
        (np.array([[1.0, 0.2]], np.float64), [1.0, 0.2]),
    ],
)
def test_selections_are_stored_as_float32_coverage(selection: np.ndarray, expected: list[float]) -> None:
    coverage = SelectionRegion(selection, KEEP).coverage
    assert coverage.dtype == np.float32
    np.testing.assert_allclose(coverage[0], expected, rtol=1e-6)


def test_edit_coverage_is_float32_even_when_empty() -> None:
    box, coverage = edit_coverage(RectRegion(1.5, 1, 2, 2, KEEP, feather=3), 8, 8)
    assert coverage.dtype == np.float32 and coverage.shape == (box.height, box.width)
    box, coverage = edit_coverage(Stroke(((-30.0, -30.0),), 2.0, KEEP), 8, 8)
    assert box.is_empty and coverage.dtype == np.float32 and coverage.size == 0


def test_a_softness_of_exactly_1e_6_is_still_a_smoothstep() -> None:
    # "below 1e-6" is the hard step: at 1e-6 itself the threshold still gets half.
    assert mask_from_map(np.array([[0.5]], np.float32), 0.5, 1e-6)[0, 0] == 0.5
    assert mask_from_map(np.array([[0.5]], np.float32), 0.5, 0.9e-6)[0, 0] == 1.0


# --- combining -----------------------------------------------------------------------------------------------------


def test_combine_mask_never_writes_into_the_base() -> None:
    base = np.full((6, 6), 0.5, np.float32)  # already float32 and contiguous: check_mask hands back the same array
    mask = combine_mask(base, [RectRegion(1, 1, 2, 2, KEEP), RectRegion(3, 3, 2, 2, REMOVE)])
    assert np.all(base == 0.5)
    assert mask[1, 1] == 1.0 and mask[3, 3] == 0.0


def test_an_edit_off_the_image_does_not_stop_the_edits_after_it() -> None:
    off = Stroke(((-50.0, -50.0),), 3.0, KEEP)
    mask = combine_mask(np.zeros((6, 6), np.float32), [off, RectRegion(0, 0, 2, 2, KEEP)])
    assert mask[0, 0] == 1.0 and mask.sum() == 4.0


def test_a_stroke_that_enters_the_image_paints_its_segments_inside() -> None:
    # The first segment lies wholly above and left of the image; the second comes in along row 5.
    stroke = Stroke(((-50.0, -20.0), (-40.0, 5.5), (5.0, 5.5)), 2.0, KEEP, hardness=1.0)
    mask = combine_mask(np.zeros((10, 10), np.float32), [stroke])
    assert np.all(mask[5, :5] == 1.0) and mask[5, 9] == 0.0


def test_each_segment_paints_where_it_lies_away_from_the_corner() -> None:
    # A V far from the image's origin: every segment's pixels sit at an offset inside the stroke's box.
    stroke = Stroke(((20.0, 10.0), (30.0, 20.0), (40.0, 10.0)), 3.0, KEEP, hardness=1.0)
    mask = combine_mask(np.zeros((30, 50), np.float32), [stroke])
    assert mask[15, 25] == 1.0 and mask[15, 35] == 1.0 and mask[19, 30] == 1.0  # both arms and the corner
    assert mask[10, 30] == 0.0 and mask[25, 30] == 0.0  # between the arms, below the corner


def test_a_dab_covers_nothing_beyond_its_reach() -> None:
    # At radius 0.8, sqrt(float32(1.3²)) rounds above float32(1.3): the box's corners must still get exactly 0, or a
    # KEEP dab would lift pixels it does not touch.
    stroke = Stroke(((5.0, 5.0),), 0.8, KEEP)
    box, coverage = edit_coverage(stroke, 10, 10)
    assert box == PixelBox(3, 3, 7, 7)
    assert coverage[0, 0] == 0.0 and coverage[-1, -1] == 0.0
    assert combine_mask(np.zeros((10, 10), np.float32), [stroke])[3, 3] == 0.0


# --- selections ----------------------------------------------------------------------------------------------------


def test_a_one_row_selection_is_applied() -> None:
    selection = np.zeros((5, 6), bool)
    selection[2, 1:4] = True
    region = SelectionRegion(selection, KEEP)
    assert edit_bounds(region, 5, 6) == PixelBox(1, 2, 4, 3)
    np.testing.assert_array_equal(combine_mask(np.zeros((5, 6), np.float32), [region]), selection)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.float32])
def test_an_empty_selection_changes_nothing(dtype: type) -> None:
    region = SelectionRegion(np.zeros((4, 5), dtype), REMOVE)
    assert edit_bounds(region, 4, 5).is_empty
    base = np.full((4, 5), 0.25, np.float32)
    np.testing.assert_array_equal(combine_mask(base, [region]), base)


# --- rectangles ----------------------------------------------------------------------------------------------------


def test_pixels_beside_a_fractional_rect_keep_their_value() -> None:
    # [2.3, 4.3)²: columns and rows 2, 3, 4 are covered 0.7, 1, 0.3; pixel 1 lies in the box but not the rectangle.
    mask = combine_mask(np.full((7, 7), 0.5, np.float32), [RectRegion(2.3, 2.3, 2, 2, KEEP)])
    side = np.array([0, 0, 0.7, 1, 0.3, 0, 0])
    np.testing.assert_allclose(mask, 0.5 + 0.5 * np.outer(side, side), atol=1e-6)


def test_a_feather_is_a_linear_ramp_centred_on_every_edge() -> None:
    rect = RectRegion(10, 10, 20, 20, REMOVE, feather=8)
    assert edit_bounds(rect, 40, 40) == PixelBox(6, 6, 34, 34)  # 4 px each side of the edges, no more
    mask = combine_mask(np.ones((40, 40), np.float32), [rect])
    left = 1 - (np.arange(8) + 0.5) / 8  # pixels 6…13: centres 6.5…13.5 on a ramp from 6 to 14
    row = mask[20]
    np.testing.assert_allclose(row[6:14], left, atol=1e-6)
    np.testing.assert_allclose(row[26:34], left[::-1], atol=1e-6)
    assert np.all(row[:6] == 1.0) and np.all(row[14:26] == 0.0) and np.all(row[34:] == 1.0)
    np.testing.assert_array_equal(mask[:, 20], row)  # top and bottom ramp the same way


# --- stroke simplification -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "kept"),
    [
        # A middle point this close to the chord is dropped, whatever the chord's direction and where it starts.
        (((0.0, 5.0), (10.0, 5.03), (20.0, 5.0)), [0, 2]),
        (((2.0, 2.0), (7.0, 4.553), (12.0, 7.0)), [0, 2]),  # 0.047 px off a slanted chord
        (((2.0, 2.0), (7.0, 4.56), (12.0, 7.0)), [0, 1, 2]),  # 0.054 px off it
        (((0.0, 0.0), (5.0, 0.05), (10.0, 0.0)), [0, 2]),  # "at most 0.05 px": exactly 0.05 is dropped
        (((0.0, 0.0), (0.4, 0.03), (0.8, 0.0)), [0, 2]),  # a chord shorter than a pixel
        # A stroke that comes back to its start: the distance to that point decides.
        (((0.0, 0.0), (0.04, 0.04), (0.0, 0.0)), [0, 1, 2]),
        (((0.0, 0.0), (0.03, 0.03), (0.0, 0.0)), [0, 2]),
        (((0.0, 0.0), (0.0, 0.06), (0.0, 0.0)), [0, 1, 2]),
    ],
)
def test_simplification_drops_only_points_within_a_twentieth_of_a_pixel(
    points: tuple[tuple[float, float], ...], kept: list[int]
) -> None:
    assert _simplified(points) == [points[index] for index in kept]


def test_stroke_points_are_stored_as_float_pairs_whatever_sequence_they_came_in() -> None:
    expected = Stroke(((1.0, 2.0), (3.0, 4.0)), 2.0, KEEP)
    pairs = [[1, 2], [3, 4]]
    for points in (pairs, np.array(pairs), (tuple(pair) for pair in pairs)):
        stroke = Stroke(points, 2.0, KEEP)  # type: ignore[arg-type]
        assert stroke == expected and hash(stroke) == hash(expected)
        assert all(type(value) is float for point in stroke.points for value in point)
