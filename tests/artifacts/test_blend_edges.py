"""Blending edge cases: float32 arithmetic bit for bit, several row bands in one thread, re-blending with a mask of
the wrong size, the memory a Blender holds, the thread count, and ImageBlender reusing the result it is given."""

from __future__ import annotations

import importlib
import os
import tracemalloc

import numpy as np
import pytest

from ldl_backend.artifacts.blend import Blender, ImageBlender
from ldl_backend.artifacts.masks import BlendInputError, PixelBox
from ldl_backend.imageio.image import ImageData, ImageMetadata
from tests.artifacts.test_blend import DTYPES, layers, random_mask

# The module, not the function ldl_backend.artifacts re-exports under the same name.
blend_module = importlib.import_module("ldl_backend.artifacts.blend")


def test_float_blend_is_the_two_sided_lerp_in_float32() -> None:
    # Bit for bit, so that every path (whole image, region, threads) gives the same floats. w = 0.5 takes the upper
    # form, which rounds differently from the lower one.
    detail, reference = layers(np.float32, (32, 32, 3))
    weight = random_mask(32, 32)
    weight[::3] = 0.5
    upper = weight >= 0.5
    step = (detail - reference) * (weight - upper).astype(np.float32)[..., None]
    expected = np.where(upper[..., None], detail + step, reference + step)
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(Blender(detail, reference).blend(weight), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_several_row_bands_in_one_thread(dtype: type) -> None:
    # 100×1000×3 is too few samples for threads but several row bands (43 rows each, the last one shorter); the
    # region is bands of 54 rows again, starting at row 30.
    detail, reference = layers(dtype, (100, 1000, 3))
    blender = Blender(detail, reference)
    mask = random_mask(100, 1000)
    out = blender.blend(mask)
    exact = reference + mask[..., None].astype(np.float64) * (detail.astype(np.float64) - reference)
    tolerance = 1e-6 if dtype == np.float32 else 0.5 + 2.0**-7
    assert np.abs(out - exact).max() <= tolerance
    changed = mask.copy()
    changed[30:95, 100:900] = random_mask(65, 800, seed=2)
    blender.reblend_region(changed, PixelBox(100, 30, 900, 95), out)
    np.testing.assert_array_equal(out, blender.blend(changed))


@pytest.mark.parametrize("shape", [(20, 25), (21, 24), (40, 48)])
def test_region_reblend_refuses_a_mask_of_another_size(shape: tuple[int, int]) -> None:
    # Only the box is read, but a mask of another size is a mistake (a larger one would even slice without error).
    detail, reference = layers(np.uint8, (20, 24, 3))
    blender = Blender(detail, reference)
    out = blender.blend(np.zeros((20, 24), np.float32))
    with pytest.raises(BlendInputError) as caught:
        blender.reblend_region(np.zeros(shape, np.float32), PixelBox(0, 0, 5, 5), out)
    assert f"the mask is {shape[0]}×{shape[1]} but the image is 20×24" in caught.value.message


@pytest.mark.parametrize(("dtype", "bytes_per_sample"), [(np.uint8, 3), (np.uint16, 6), (np.float32, 8)])
def test_blender_holds_the_layers_compactly(dtype: type, bytes_per_sample: int) -> None:
    # The documented footprint (a Blender stays alive per open image): uint8 keeps the reference and an int16
    # difference, uint16 a float32 one, float32 both layers; a wider difference would double a large image's share.
    detail, reference = layers(dtype, (64, 64, 3))
    tracemalloc.start()
    try:
        blender = Blender(detail, reference)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blender.shape == (64, 64, 3)
    assert bytes_per_sample * detail.size <= held < bytes_per_sample * detail.size + 4096


@pytest.mark.parametrize(
    ("allowed", "cpu_count", "expected"),
    [
        (3, 64, 3),  # the cores this process may use (taskset, container), not the machine's
        (1, 64, 1),
        (32, 64, 8),  # more only contend for memory bandwidth
        (None, 4, 4),  # no sched_getaffinity (macOS, Windows): the machine's cores
        (None, None, 1),  # and when even that is unknown, one
    ],
)
def test_worker_count(
    monkeypatch: pytest.MonkeyPatch, allowed: int | None, cpu_count: int | None, expected: int
) -> None:
    if allowed is None:
        monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    else:
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(allowed)), raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpu_count)
    assert blend_module._worker_count() == expected


def test_image_blender_reuses_the_result_it_is_given() -> None:
    # A brush stroke re-blends into the previous result: its colour and alpha buffers, its metadata, and outside the
    # stroke's box its pixels stay as they were.
    detail_colour, reference_colour = layers(np.uint8, (9, 11, 3))
    alpha = np.random.default_rng(5).integers(0, 256, (9, 11)).astype(np.uint8)
    metadata = ImageMetadata(icc_profile=b"profile", source_format="PNG")
    blender = ImageBlender(ImageData(detail_colour, alpha, metadata), ImageData(reference_colour, alpha))
    first = blender.blend(np.zeros((9, 11), np.float32))
    assert first.alpha is not None and blender.blend(np.zeros((9, 11), np.float32)).alpha is not first.alpha
    again = blender.blend(np.ones((9, 11), np.float32), out=first)
    assert again.colour is first.colour and again.alpha is first.alpha and again.metadata == metadata
    np.testing.assert_array_equal(again.colour, detail_colour)
    stroke = blender.reblend_region(np.zeros((9, 11), np.float32), PixelBox(3, 2, 8, 5), again)
    assert stroke.colour is again.colour and stroke.alpha is again.alpha and stroke.metadata == metadata
    expected = detail_colour.copy()
    expected[2:5, 3:8] = reference_colour[2:5, 3:8]
    np.testing.assert_array_equal(stroke.colour, expected)
    np.testing.assert_array_equal(stroke.alpha, alpha)
