"""SSIM on 8-bit images with BasicSR's conventions (``calculate_ssim``), which reproduce Wang et al.'s MATLAB code.

An 11×11 Gaussian window (σ = 1.5) gives local means, variances and covariance; only positions where the whole
window lies inside the image are scored ("valid" filtering, no padding), the SSIM map is averaged, and channels
are averaged last.
"""

from __future__ import annotations

import numpy as np

from ldl_backend.metrics.psnr import PEAK
from ldl_backend.metrics.scored_pixels import scored_pair

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
# Stabilisers from the SSIM paper: K1 = 0.01 and K2 = 0.03 of the dynamic range.
C1 = (0.01 * PEAK) ** 2
C2 = (0.03 * PEAK) ** 2


def gaussian_taps(size: int = WINDOW_SIZE, sigma: float = WINDOW_SIGMA) -> np.ndarray:
    """A normalised 1-D Gaussian; the SSIM window is its outer product with itself (so filtering is separable)."""
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    taps = np.exp(-(offsets**2) / (2.0 * sigma * sigma))
    return taps / taps.sum()


def filter_valid(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Filter an H×W image with the separable window ``taps ⊗ taps`` where it fits entirely:
    an (H − n + 1)×(W − n + 1) result."""
    n = taps.size
    height, width = image.shape[0] - n + 1, image.shape[1] - n + 1
    rows = taps[0] * image[:height, :]
    for k in range(1, n):
        rows += taps[k] * image[k : k + height, :]
    result = taps[0] * rows[:, :width]
    for k in range(1, n):
        result += taps[k] * rows[:, k : k + width]
    return result


def _ssim_channel(x: np.ndarray, y: np.ndarray, taps: np.ndarray) -> float:
    mu_x = filter_valid(x, taps)
    mu_y = filter_valid(y, taps)
    var_x = filter_valid(x * x, taps) - mu_x * mu_x
    var_y = filter_valid(y * y, taps) - mu_y * mu_y
    cov_xy = filter_valid(x * y, taps) - mu_x * mu_y
    numerator = (2.0 * mu_x * mu_y + C1) * (2.0 * cov_xy + C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + C1) * (var_x + var_y + C2)
    return float(np.mean(numerator / denominator))


def ssim(a: np.ndarray, b: np.ndarray, *, crop_border: int = 0, y_channel: bool = False) -> float:
    """Structural similarity between two uint8 images of the same shape (H×W or H×W×C), in (−1, 1].

    Computed per channel on the 0–255 scale after cropping ``crop_border`` from each edge (on the BT.601 luma with
    ``y_channel``), then averaged over channels. The cropped image must be at least 11×11. Raises
    MetricInputError for non-uint8 images, different shapes, too small a crop, or ``y_channel`` with a channel
    count other than 1 or 3.
    """
    x, y = scored_pair(a, b, crop_border=crop_border, y_channel=y_channel, metric="SSIM", min_side=WINDOW_SIZE)
    taps = gaussian_taps()
    return float(np.mean([_ssim_channel(x[:, :, c], y[:, :, c], taps) for c in range(x.shape[2])]))
