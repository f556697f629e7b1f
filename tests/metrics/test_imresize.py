"""MATLAB-style bicubic: invariants, agreement with Pillow in the interior, and BasicSR's numbers."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from ldl_backend.degradations.imresize import (
    ResizeInputError,
    axis_weights,
    bicubic_degrade,
    imresize,
    imresize_torch,
    modcrop,
)


def smooth_image(height: int, width: int, channels: int = 0) -> np.ndarray:
    """A band-limited float32 test image (slow sines), so resampling errors stay tiny away from the borders."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    base = 0.5 + 0.3 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 0.1 * np.sin((xx + yy) / 21.0)
    if channels:
        base = np.stack([base * (1.0 - 0.1 * c) + 0.05 * c for c in range(channels)], axis=2)
    return base.astype(np.float32)


@pytest.mark.parametrize("scale", [0.25, 0.5, 1 / 3, 0.7, 1.5, 2.0, 4.0])
@pytest.mark.parametrize("antialiasing", [True, False])
def test_constant_image_stays_constant(scale: float, antialiasing: bool) -> None:
    image = np.full((23, 31, 3), 0.37, dtype=np.float64)
    out = imresize(image, scale, antialiasing=antialiasing)
    np.testing.assert_allclose(out, 0.37, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "scale", "expected"),
    [((100, 60), 0.25, (25, 15)), ((101, 61), 0.25, (26, 16)), ((7, 5), 3.0, (21, 15)), ((10, 9), 0.5, (5, 5))],
)
def test_output_size_is_ceil(shape: tuple[int, int], scale: float, expected: tuple[int, int]) -> None:
    assert imresize(np.zeros(shape, np.float32), scale).shape == expected
    assert imresize(np.zeros((*shape, 3), np.float32), scale).shape == (*expected, 3)
    assert expected == (math.ceil(shape[0] * scale), math.ceil(shape[1] * scale))


def test_output_size_argument() -> None:
    out = imresize(smooth_image(40, 60), output_size=(20, 90))
    assert out.shape == (20, 90)


def test_dtype_follows_input() -> None:
    assert imresize(np.zeros((8, 8), np.float32), 0.5).dtype == np.float32
    assert imresize(np.zeros((8, 8), np.float64), 0.5).dtype == np.float64


def test_values_are_not_clipped() -> None:
    # A sharp edge overshoots with a cubic kernel; the overshoot must survive (and so must negative inputs).
    step = np.zeros((16, 16), np.float64)
    step[:, 8:] = 1.0
    out = imresize(step, 2.0)
    assert out.max() > 1.0
    assert out.min() < 0.0
    np.testing.assert_allclose(imresize(step - 5.0, 2.0), out - 5.0, atol=1e-12)


def test_linear_ramp_is_reproduced_in_the_interior() -> None:
    # The cubic kernel (a = −0.5) reproduces linear functions exactly; output i (1-based) samples
    # u = i / s + (1 − 1 / s) / 2, so away from the mirrored borders the result is that coordinate.
    for scale in (0.5, 2.0, 3.0):
        ramp = np.tile(np.arange(1, 41, dtype=np.float64), (5, 1))
        out = imresize(ramp, output_size=(5, math.ceil(40 * scale)))[0]
        u = np.arange(1, out.size + 1) / scale + 0.5 * (1 - 1 / scale)
        margin = int(4 * max(1.0, scale))
        np.testing.assert_allclose(out[margin:-margin], u[margin:-margin], atol=1e-12)


def test_weights_rows_sum_to_one_and_indices_stay_inside() -> None:
    for in_length, out_length, scale in ((3, 1, 0.25), (7, 21, 3.0), (1356, 339, 0.25), (2, 1, 0.5)):
        weights = axis_weights(in_length, out_length, scale, antialiasing=True)
        np.testing.assert_allclose(weights.weights.sum(axis=1), 1.0, atol=1e-12)
        assert weights.indices.min() >= 0
        assert weights.indices.max() < in_length


def test_tiny_images_resize() -> None:
    # The kernel is wider than the image here: the mirror folds repeatedly instead of reading out of bounds.
    out = imresize(np.arange(6, dtype=np.float64).reshape(2, 3), 0.25)
    assert out.shape == (1, 1)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(imresize(np.full((1, 1), 2.0), 4.0), 2.0)


@pytest.mark.parametrize("scale", [0.5, 0.25, 2.0])
def test_interior_matches_pillow_bicubic(scale: float) -> None:
    # Pillow's BICUBIC is the same kernel (a = −0.5, widened when reducing) but renormalises at the borders instead
    # of mirroring, so only the interior must agree.
    image = smooth_image(120, 160)
    out = imresize(image, scale)
    pillow = Image.fromarray(image).resize((out.shape[1], out.shape[0]), Image.Resampling.BICUBIC, reducing_gap=None)
    reference = np.asarray(pillow)
    margin = math.ceil(3 * max(1.0, 1.0 / scale)) + 1
    np.testing.assert_allclose(
        out[margin:-margin, margin:-margin], reference[margin:-margin, margin:-margin], atol=1e-3
    )


def test_down_then_up_round_trip_stays_close() -> None:
    image = smooth_image(128, 96, channels=3)
    back = imresize(imresize(image, 0.25), 4.0)
    assert back.shape == image.shape
    assert float(np.abs(back - image)[8:-8, 8:-8].max()) < 0.02
    assert float(np.abs(back - image).mean()) < 0.01


@pytest.mark.parametrize(("scale", "antialiasing"), [(0.25, True), (0.5, False), (1 / 3, True), (3.0, True)])
def test_torch_matches_numpy(scale: float, antialiasing: bool) -> None:
    image = np.random.default_rng(1).random((37, 50, 3)).astype(np.float32)
    expected = imresize(image, scale, antialiasing=antialiasing)
    chw = torch.from_numpy(image.transpose(2, 0, 1).copy())
    single = imresize_torch(chw, scale, antialiasing=antialiasing)
    batch = imresize_torch(torch.stack([chw, chw * 2]), scale, antialiasing=antialiasing)
    np.testing.assert_allclose(single.numpy().transpose(1, 2, 0), expected, atol=1e-5)
    np.testing.assert_allclose(batch[1].numpy().transpose(1, 2, 0), expected * 2, atol=1e-5)
    assert single.dtype == torch.float32


def test_torch_keeps_gradients() -> None:
    tensor = torch.rand(1, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    imresize_torch(tensor, 0.5).sum().backward()
    assert tensor.grad is not None
    # Each output's weights sum to 1, so the gradient of the sum adds up to the number of outputs.
    assert float(tensor.grad.sum()) == pytest.approx(16.0)


# BasicSR 1.4.2 ``basicsr.utils.matlab_functions.imresize`` on skimage's astronaut (float32 / 255): pixel values at
# the corners (where the mirrored border matters) and inside. Power-of-two scales make its float32 weights exact.
BASICSR_ASTRONAUT = {
    (0.25, True): {
        (0, 0): (0.6008465886116028, 0.5838855504989624, 0.6170269846916199),
        (0, -1): (0.48895829916000366, 0.4604724645614624, 0.4328092336654663),
        (-1, -1): (0.032025858759880066, 0.03134389966726303, 0.026597406715154648),
        (-1, 0): (0.7175897359848022, 0.6506072282791138, 0.6720669865608215),
        (37, 91): (0.8548164963722229, 0.8108940720558167, 0.773483157157898),
    },
    (0.5, False): {
        (0, 0): (0.5746476650238037, 0.5526654720306396, 0.5759803652763367),
        (-1, -1): (0.0023437500931322575, 0.0023437500931322575, 0.0020680148154497147),
        (37, 91): (0.20189951360225677, 0.13005514442920685, 0.024494484066963196),
    },
    (2.0, True): {
        (0, 0): (0.6124234199523926, 0.5843060612678528, 0.5946959257125854),
        (-1, -1): (-0.000367647095117718, -0.000367647095117718, -0.000367647095117718),
        (37, 91): (0.4319685399532318, 0.41664180159568787, 0.37962573766708374),
    },
}


@pytest.mark.parametrize(("scale", "antialiasing"), list(BASICSR_ASTRONAUT))
def test_matches_basicsr_on_astronaut(scale: float, antialiasing: bool) -> None:
    image = data.astronaut().astype(np.float32) / 255.0
    out = imresize(image, scale, antialiasing=antialiasing)
    for (row, col), expected in BASICSR_ASTRONAUT[(scale, antialiasing)].items():
        np.testing.assert_allclose(out[row, col], expected, atol=1e-6)


def test_a_full_size_benchmark_image_resizes() -> None:
    image = np.random.default_rng(0).random((1356, 2040, 3), dtype=np.float32)
    out = imresize(image, 0.25)
    assert out.shape == (339, 510, 3) and out.dtype == np.float32


def test_modcrop() -> None:
    image = np.arange(10 * 7 * 3).reshape(10, 7, 3)
    assert modcrop(image, 4).shape == (8, 4, 3)
    assert modcrop(image[:, :, 0], 3).shape == (9, 6)
    np.testing.assert_array_equal(modcrop(image, 1), image)
    np.testing.assert_array_equal(modcrop(image, 4), image[:8, :4])


def test_bicubic_degrade_is_modcrop_then_resize() -> None:
    hr = smooth_image(50, 66, channels=3)
    lr = bicubic_degrade(hr, 4)
    assert lr.shape == (12, 16, 3)
    assert lr.dtype == np.float32
    np.testing.assert_array_equal(lr, imresize(hr[:48, :64], 0.25))


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: imresize(np.zeros((8, 8), np.uint8), 0.5), "float pixels"),
        (lambda: imresize(np.zeros((8, 8), np.float32)), "exactly one"),
        (lambda: imresize(np.zeros((8, 8), np.float32), 0.5, output_size=(4, 4)), "exactly one"),
        (lambda: imresize(np.zeros((8, 8), np.float32), 0.0), "positive"),
        (lambda: imresize(np.zeros((8, 8), np.float32), float("nan")), "positive"),
        (lambda: imresize(np.zeros((8, 8), np.float32), output_size=(0, 4)), "positive integers"),
        (lambda: imresize(np.zeros((2, 8, 8, 3), np.float32), 0.5), "H×W"),
        (lambda: imresize(np.zeros((0, 8), np.float32), 0.5), "empty"),
        (lambda: imresize_torch(torch.zeros(8, 8), 0.5), "C×H×W"),
        (lambda: imresize_torch(torch.zeros(1, 8, 8, dtype=torch.uint8), 0.5), "float pixels"),
        (lambda: modcrop(np.zeros((3, 8)), 4), "smaller than the scale"),
        (lambda: modcrop(np.zeros((8, 8)), 0), "positive integer"),
    ],
)
def test_bad_inputs_are_refused_with_a_hint(call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(ResizeInputError, match=fragment) as info:
        call()
    assert info.value.hint
