"""PSNR, SSIM and the Y channel: hand-computed cases, invariants, BasicSR's conventions and clear errors."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from skimage import data

from ldl_backend.metrics.colour import rgb_to_y
from ldl_backend.metrics.errors import MetricInputError
from ldl_backend.metrics.psnr import psnr
from ldl_backend.metrics.ssim import filter_valid, gaussian_taps, ssim


def photo_crop() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut()[100:196, 150:246])


def test_psnr_of_a_hand_computed_4x4_example() -> None:
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    b[0, 0], b[1, 2], b[3, 3] = 4, 8, 2  # squared errors 16 + 64 + 4 = 84 over 16 pixels
    mse = 84 / 16
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / mse), abs=1e-12)
    assert psnr(b, a) == psnr(a, b)


@pytest.mark.parametrize("offset", [1, 3, 10, 50])
def test_constant_offset_gives_the_formula(offset: int) -> None:
    a = np.random.default_rng(0).integers(0, 200, (20, 30, 3), dtype=np.uint8)
    b = a + np.uint8(offset)
    assert psnr(a, b) == pytest.approx(20 * math.log10(255 / offset), abs=1e-10)
    # On Y the offset is scaled by the sum of the weights: (65.481 + 128.553 + 24.966) / 255 = 219 / 255.
    assert psnr(a, b, y_channel=True) == pytest.approx(20 * math.log10(255 / (offset * 219 / 255)), abs=1e-9)


def test_identical_images() -> None:
    image = photo_crop()
    assert psnr(image, image) == math.inf
    assert psnr(image, image, y_channel=True, crop_border=4) == math.inf
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    assert ssim(image, image, y_channel=True, crop_border=4) == pytest.approx(1.0, abs=1e-12)


def test_ssim_drops_with_distortion_and_is_symmetric() -> None:
    image = photo_crop()
    rng = np.random.default_rng(3)
    mild = np.clip(image + rng.normal(0, 5, image.shape), 0, 255).astype(np.uint8)
    strong = np.clip(image + rng.normal(0, 40, image.shape), 0, 255).astype(np.uint8)
    assert 1.0 > ssim(image, mild) > ssim(image, strong) > 0.0
    assert ssim(image, mild) == pytest.approx(ssim(mild, image), abs=1e-12)
    assert psnr(image, mild) > psnr(image, strong)


def test_ssim_of_constant_images_follows_the_formula() -> None:
    # Flat images have no variance, so SSIM reduces to the luminance term (2 μx μy + C1) / (μx² + μy² + C1).
    a = np.full((16, 16), 100, np.uint8)
    b = np.full((16, 16), 120, np.uint8)
    c1 = (0.01 * 255) ** 2
    assert ssim(a, b) == pytest.approx((2 * 100 * 120 + c1) / (100**2 + 120**2 + c1), abs=1e-12)


def test_ssim_matches_a_direct_window_sum() -> None:
    # Valid filtering: one output per position where the whole 11×11 window fits.
    rng = np.random.default_rng(5)
    x = rng.random((14, 12))
    window = np.outer(gaussian_taps(), gaussian_taps())
    direct = np.array([[np.sum(window * x[i : i + 11, j : j + 11]) for j in range(2)] for i in range(4)])
    np.testing.assert_allclose(filter_valid(x, gaussian_taps()), direct, atol=1e-12)
    assert gaussian_taps().sum() == pytest.approx(1.0)
    assert gaussian_taps()[5] / gaussian_taps()[6] == pytest.approx(math.exp(1 / (2 * 1.5**2)))


def test_ssim_averages_channels() -> None:
    image = photo_crop()
    other = np.clip(image.astype(np.int16) + np.random.default_rng(2).integers(-20, 20, image.shape), 0, 255)
    other = other.astype(np.uint8)
    per_channel = [ssim(image[:, :, c], other[:, :, c]) for c in range(3)]
    assert ssim(image, other) == pytest.approx(float(np.mean(per_channel)), abs=1e-12)


def test_y_channel_matches_bt601() -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    r, g, b = (rgb[:, :, i].astype(np.float64) for i in range(3))
    expected = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    y = rgb_to_y(rgb)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, expected, atol=1e-6)
    np.testing.assert_allclose(rgb_to_y(rgb.astype(np.float32)), expected, atol=1e-6)
    assert rgb_to_y(np.zeros((1, 1, 3), np.uint8))[0, 0] == pytest.approx(16.0)
    assert rgb_to_y(np.full((1, 1, 3), 255, np.uint8))[0, 0] == pytest.approx(235.0)


def test_y_channel_psnr_compares_the_luma() -> None:
    rng = np.random.default_rng(8)
    a = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    mse = np.mean((rgb_to_y(a) - rgb_to_y(b)) ** 2)
    assert psnr(a, b, y_channel=True) == pytest.approx(10 * math.log10(255**2 / mse), abs=1e-10)


def test_gray_images_are_used_as_they_are_on_y() -> None:
    image = photo_crop()[:, :, 1]
    other = np.roll(image, 1, axis=1)
    assert psnr(image, other, y_channel=True) == psnr(image, other)
    assert ssim(image, other, y_channel=True) == ssim(image, other)
    assert psnr(image[:, :, None], other[:, :, None], y_channel=True) == psnr(image, other)


@pytest.mark.parametrize("metric", [psnr, ssim])
@pytest.mark.parametrize("y_channel", [False, True])
def test_crop_border_ignores_differences_in_the_border(metric: Callable[..., float], y_channel: bool) -> None:
    image = photo_crop()
    other = np.clip(image.astype(np.int16) + np.random.default_rng(4).integers(-9, 9, image.shape), 0, 255)
    other = other.astype(np.uint8)
    spoiled = other.copy()
    spoiled[:4] = 0
    spoiled[-4:] = 255
    spoiled[:, :4] = 17
    spoiled[:, -4:] = 200
    cropped = metric(image, other, crop_border=4, y_channel=y_channel)
    assert metric(image, spoiled, crop_border=4, y_channel=y_channel) == cropped
    assert metric(image[4:-4, 4:-4], other[4:-4, 4:-4], y_channel=y_channel) == pytest.approx(cropped, abs=1e-12)
    assert metric(image, spoiled, y_channel=y_channel) < cropped


# What BasicSR 1.4.2 (calculate_psnr / calculate_ssim, test_y_channel=True, crop_border=4) gives for skimage's
# astronaut against itself re-encoded as JPEG quality 5 by OpenCV; BasicSR computes Y in float32, hence ~1e-7.
def test_matches_basicsr_on_a_jpeg_pair() -> None:
    cv2 = pytest.importorskip("cv2")
    image = data.astronaut()
    ok, encoded = cv2.imencode(".jpg", image[:, :, ::-1].copy(), [cv2.IMWRITE_JPEG_QUALITY, 5])
    assert ok
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    assert decoded is not None
    jpeg = decoded[:, :, ::-1].copy()
    assert psnr(image, jpeg, crop_border=4, y_channel=True) == pytest.approx(27.3064324231, abs=1e-6)
    assert ssim(image, jpeg, crop_border=4, y_channel=True) == pytest.approx(0.8021918102, abs=1e-6)
    assert psnr(image, jpeg) == pytest.approx(24.1082259802, abs=1e-8)
    assert ssim(image, jpeg) == pytest.approx(0.6467558744, abs=1e-8)


GOOD = np.zeros((16, 16, 3), np.uint8)


@pytest.mark.parametrize("metric", [psnr, ssim])
@pytest.mark.parametrize(
    ("a", "b", "kwargs", "fragment"),
    [
        (GOOD, np.zeros((16, 15, 3), np.uint8), {}, "same shape"),
        (GOOD.astype(np.float32), GOOD.astype(np.float32), {}, "8-bit"),
        (GOOD.astype(np.uint16), GOOD.astype(np.uint16), {}, "8-bit"),
        (GOOD, GOOD, {"crop_border": 8}, "leaves 0×0"),
        (GOOD, GOOD, {"crop_border": -1}, "non-negative"),
        (np.zeros((16, 16, 4), np.uint8), np.zeros((16, 16, 4), np.uint8), {"y_channel": True}, "4 channels"),
        (np.zeros((2, 16, 16, 3), np.uint8), np.zeros((2, 16, 16, 3), np.uint8), {}, "H×W"),
    ],
)
def test_bad_inputs_are_refused_with_a_hint(
    metric: Callable[..., float], a: np.ndarray, b: np.ndarray, kwargs: dict[str, object], fragment: str
) -> None:
    with pytest.raises(MetricInputError, match=fragment) as info:
        metric(a, b, **kwargs)
    assert info.value.hint


def test_ssim_needs_its_window() -> None:
    image = np.zeros((20, 20), np.uint8)
    assert psnr(image, image, crop_border=5) == math.inf
    with pytest.raises(MetricInputError, match="at least 11×11"):
        ssim(image, image, crop_border=5)


def test_rgb_to_y_refuses_other_shapes_and_types() -> None:
    with pytest.raises(MetricInputError, match="H×W×3"):
        rgb_to_y(np.zeros((4, 4), np.uint8))
    with pytest.raises(MetricInputError, match="uint16"):
        rgb_to_y(np.zeros((4, 4, 3), np.uint16))
