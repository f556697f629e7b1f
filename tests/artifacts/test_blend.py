"""Blending: exact ends, rounding, dtype ranges, Blender == blend, region re-blend == full, alpha, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ldl_backend.artifacts.blend import Blender, ImageBlender, blend, blend_image
from ldl_backend.artifacts.masks import (
    BlendInputError,
    EditMode,
    PixelBox,
    RectRegion,
    Stroke,
    combine_mask,
    edit_bounds,
    mask_from_map,
)
from ldl_backend.imageio.image import ImageData, ImageMetadata

DTYPES = [np.uint8, np.uint16, np.float32]


def layers(dtype: type, shape: tuple[int, ...] = (17, 23, 3), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(detail, reference): random over the dtype's whole range; floats also outside [0, 1] (HDR, ringing)."""
    rng = np.random.default_rng(seed)

    def one() -> np.ndarray:
        if dtype == np.float32:
            return rng.uniform(-0.5, 2.0, shape).astype(np.float32)
        return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)

    return one(), one()


def random_mask(height: int, width: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((height, width), dtype=np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mask_zero_gives_reference_and_one_gives_detail_exactly(dtype: type) -> None:
    detail, reference = layers(dtype)
    np.testing.assert_array_equal(blend(detail, reference, np.zeros((17, 23), np.float32)), reference)
    np.testing.assert_array_equal(blend(detail, reference, np.ones((17, 23), np.float32)), detail)
    assert blend(detail, reference, np.ones((17, 23), bool)).dtype == dtype


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_half_mask_is_the_midpoint_rounded_half_up(dtype: type) -> None:
    detail, reference = layers(dtype)
    result = blend(detail, reference, np.full((17, 23), 0.5, np.float32))
    expected = (detail.astype(np.int64) + reference.astype(np.int64) + 1) // 2
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_blend_rounds_to_nearest(dtype: type) -> None:
    detail, reference = layers(dtype, (64, 64, 3))
    mask = random_mask(64, 64)
    result = blend(detail, reference, mask).astype(np.float64)
    exact = reference + mask[..., None].astype(np.float64) * (detail.astype(np.float64) - reference)
    # float32 arithmetic: correct rounding except within float32's error of a half (≈ 2⁻¹⁶ for 8 bit, 2⁻⁸ for 16).
    tolerance = 2.0**-15 if dtype == np.uint8 else 2.0**-7
    assert np.all(np.abs(result - exact) <= 0.5 + tolerance)
    clear_of_ties = np.abs(exact - np.floor(exact) - 0.5) > tolerance
    np.testing.assert_array_equal(result[clear_of_ties], np.floor(exact + 0.5)[clear_of_ties])


def test_dyadic_masks_are_exact_for_8_bit() -> None:
    detail, reference = layers(np.uint8, (32, 32, 3))
    mask = (np.random.default_rng(3).integers(0, 257, (32, 32)) / 256).astype(np.float32)
    exact = reference + mask[..., None].astype(np.float64) * (detail.astype(np.float64) - reference)
    np.testing.assert_array_equal(blend(detail, reference, mask), np.floor(exact + 0.5))


def test_uint16_keeps_values_above_255() -> None:
    detail = np.full((2, 2, 3), 60000, np.uint16)
    reference = np.full((2, 2, 3), 1000, np.uint16)
    result = blend(detail, reference, np.full((2, 2), 0.25, np.float32))
    assert result.dtype == np.uint16 and np.all(result == 1000 + 14750)
    assert np.all(blend(detail, reference, np.ones((2, 2), np.float32)) == 60000)


def test_float_values_outside_unit_range_are_kept() -> None:
    detail = np.full((1, 2, 1), 2.5, np.float32)
    reference = np.full((1, 2, 1), -1.0, np.float32)
    result = blend(detail, reference, np.array([[0.5, 0.0]], np.float32))
    np.testing.assert_array_equal(result[0, :, 0], [0.75, -1.0])
    assert result.dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_blender_equals_blend_and_reuses_buffers(dtype: type) -> None:
    # 512×384×3 is several row bands shared out to threads, so band seams and the thread pool are covered too.
    detail, reference = layers(dtype, (512, 384, 3))
    blender = Blender(detail, reference)
    first, second = random_mask(512, 384, 1), random_mask(512, 384, 2)
    out = blender.blend(first)
    np.testing.assert_array_equal(out, blend(detail, reference, first))
    again = blender.blend(second, out=out)
    assert again is out
    np.testing.assert_array_equal(out, blend(detail, reference, second))
    exact = reference + second[..., None].astype(np.float64) * (detail.astype(np.float64) - reference)
    tolerance = 1e-6 if dtype == np.float32 else 0.5 + 2.0**-7
    assert np.abs(out - exact).max() <= tolerance


@pytest.mark.parametrize("dtype", DTYPES)
def test_blender_is_independent_of_later_changes_to_the_layers(dtype: type) -> None:
    detail, reference = layers(dtype)
    blender = Blender(detail, reference)
    mask = random_mask(17, 23)
    expected = blend(detail, reference, mask)
    detail[:] = 0
    reference[:] = 0
    np.testing.assert_array_equal(blender.blend(mask), expected)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", DTYPES)
def test_region_reblend_equals_full_reblend(dtype: type, channels: int) -> None:
    detail, reference = layers(dtype, (120, 90, channels))
    blender = Blender(detail, reference)
    artifact_map = np.random.default_rng(4).random((120, 90), dtype=np.float32)
    before = mask_from_map(artifact_map, 0.5, 0.2)
    out = blender.blend(before)
    edits = [
        Stroke(((10.0, 20.0), (60.0, 50.0)), radius=7.0, mode=EditMode.REMOVE, hardness=0.3),
        Stroke(((85.0, 115.0),), radius=12.0, mode=EditMode.KEEP),  # partly off the image
        RectRegion(30, 80, 25, 12, EditMode.KEEP, feather=3),
    ]
    mask = before
    for edit in edits:
        mask = combine_mask(mask, [edit])
        blender.reblend_region(mask, edit_bounds(edit, 120, 90), out)
        np.testing.assert_array_equal(out, blender.blend(mask))


def test_region_reblend_reads_only_the_box_and_accepts_boxes_off_the_image() -> None:
    detail, reference = layers(np.uint8, (20, 20, 3))
    blender = Blender(detail, reference)
    out = blender.blend(np.zeros((20, 20), np.float32))
    mask = np.full((20, 20), np.nan, np.float32)  # garbage outside the box must not matter
    mask[5:10, 5:10] = 1.0
    blender.reblend_region(mask, PixelBox(5, 5, 10, 10), out)
    np.testing.assert_array_equal(out[5:10, 5:10], detail[5:10, 5:10])
    np.testing.assert_array_equal(out[:5], reference[:5])
    blender.reblend_region(mask, PixelBox(40, 40, 50, 50), out)  # clipped to nothing
    with pytest.raises(BlendInputError, match="NaN"):
        blender.reblend_region(mask, PixelBox(0, 0, 6, 6), out)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_blend_lies_between_the_layers(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(DTYPES))
    shape = data.draw(st.tuples(st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 3, 4])))
    if dtype == np.float32:
        elements = st.floats(-4.0, 4.0, width=32, allow_subnormal=False)
    else:
        elements = st.integers(0, int(np.iinfo(dtype).max))
    detail = data.draw(hnp.arrays(dtype, shape, elements=elements))
    reference = data.draw(hnp.arrays(dtype, shape, elements=elements))
    mask = data.draw(hnp.arrays(np.float32, shape[:2], elements=st.floats(0.0, 1.0, width=32)))
    result = blend(detail, reference, mask)
    assert result.dtype == dtype and result.shape == shape
    assert np.all(result >= np.minimum(detail, reference)) and np.all(result <= np.maximum(detail, reference))


@pytest.mark.parametrize("channels", [1, 3])
def test_blend_image_takes_alpha_and_metadata_from_detail(channels: int) -> None:
    detail_colour, reference_colour = layers(np.uint16, (9, 11, channels))
    alpha = np.random.default_rng(5).integers(0, 65536, (9, 11)).astype(np.uint16)
    metadata = ImageMetadata(icc_profile=b"profile", source_format="PNG")
    detail = ImageData(detail_colour, alpha, metadata)
    reference = ImageData(reference_colour, alpha // 2, ImageMetadata())
    mask = random_mask(9, 11)
    result = blend_image(detail, reference, mask)
    np.testing.assert_array_equal(result.colour, blend(detail_colour, reference_colour, mask))
    assert result.alpha is not None and result.alpha is not alpha
    np.testing.assert_array_equal(result.alpha, alpha)
    assert result.metadata == metadata
    blender = ImageBlender(detail, reference)
    again = blender.reblend_region(np.ones((9, 11), np.float32), PixelBox(0, 0, 11, 9), blender.blend(mask))
    np.testing.assert_array_equal(again.colour, detail_colour)
    assert again.alpha is not None and np.array_equal(again.alpha, alpha)


def test_blend_image_without_alpha() -> None:
    detail_colour, reference_colour = layers(np.float32, (4, 4, 3))
    result = blend_image(ImageData(detail_colour), ImageData(reference_colour), np.ones((4, 4), np.float32))
    assert result.alpha is None
    np.testing.assert_array_equal(result.colour, detail_colour)


@pytest.mark.parametrize("which", ["detail", "reference"])
def test_only_one_layer_with_alpha_is_refused(which: str) -> None:
    colour = np.zeros((4, 4, 3), np.uint8)
    with_alpha, without = ImageData(colour, np.zeros((4, 4), np.uint8)), ImageData(colour)
    detail, reference = (with_alpha, without) if which == "detail" else (without, with_alpha)
    with pytest.raises(BlendInputError, match=f"only the {which} layer has alpha") as caught:
        ImageBlender(detail, reference)
    assert caught.value.hint


@pytest.mark.parametrize(
    ("detail", "reference", "words"),
    [
        (
            np.zeros((4, 4, 3), np.uint8),
            np.zeros((4, 5, 3), np.uint8),
            "detail layer is 4×4×3 uint8 but the reference is 4×5×3 uint8",
        ),
        (
            np.zeros((4, 4, 3), np.uint8),
            np.zeros((4, 4, 3), np.uint16),
            "4×4×3 uint8 but the reference is 4×4×3 uint16",
        ),
        (
            np.zeros((4, 4, 3), np.float64),
            np.zeros((4, 4, 3), np.float64),
            "the detail layer must be uint8, uint16 or float32, not float64",
        ),
        (
            np.zeros((4, 4, 3), np.float32),
            np.zeros((4, 4, 3), np.float16),
            "the reference layer must be uint8, uint16 or float32, not float16",
        ),
        (np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8), "the detail layer must be H×W×C, not 4×4 uint8"),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8), "the reference layer must be H×W×C"),
        (np.full((4, 4, 3), np.nan, np.float32), np.zeros((4, 4, 3), np.float32), "the detail layer contains NaN"),
        (np.zeros((4, 4, 3), np.float32), np.full((4, 4, 3), np.inf, np.float32), "the reference layer contains NaN"),
    ],
)
def test_bad_layers_are_refused(detail: np.ndarray, reference: np.ndarray, words: str) -> None:
    with pytest.raises(BlendInputError) as caught:
        Blender(detail, reference)
    # The message itself, not the hint after it, must say which layer is wrong and how.
    assert words in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    ("mask", "words"),
    [
        (np.full((4, 4), np.nan, np.float32), "NaN"),
        (np.full((4, 4), 1.5, np.float32), r"\[0, 1\]"),
        (np.full((4, 4), -0.1, np.float64), r"\[0, 1\]"),
        (np.zeros((4, 5), np.float32), "mask is 4×5 but the image is 4×4"),
        (np.zeros((4, 4), np.uint8), "uint8"),
    ],
)
def test_bad_masks_are_refused(mask: np.ndarray, words: str) -> None:
    detail, reference = layers(np.uint8, (4, 4, 3))
    with pytest.raises(BlendInputError, match=words):
        blend(detail, reference, mask)


def read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@pytest.mark.parametrize(
    ("out", "words"),
    [
        (np.zeros((4, 4, 3), np.uint16), "the output buffer is 4×4×3 uint16 but the layers are 4×4×3 uint8"),
        (np.zeros((4, 5, 3), np.uint8), "the output buffer is 4×5×3 uint8 but the layers are 4×4×3 uint8"),
        (np.zeros((4, 4, 6), np.uint8)[:, :, ::2], "writable C-contiguous"),
        (read_only(np.zeros((4, 4, 3), np.uint8)), "writable C-contiguous"),
    ],
)
def test_bad_output_buffers_are_refused(out: np.ndarray, words: str) -> None:
    detail, reference = layers(np.uint8, (4, 4, 3))
    with pytest.raises(BlendInputError) as caught:
        Blender(detail, reference).blend(np.ones((4, 4), np.float32), out=out)
    assert words in caught.value.message
    assert caught.value.hint
