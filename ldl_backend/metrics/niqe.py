"""NIQE (Mittal et al., "Making a completely blind image quality analyzer"), as BasicSR's ``calculate_niqe``
computes it for LDL's tables (Y channel, 96×96 blocks, two scales). Lower is better.

Steps: luma (BT.601 Y for RGB, the gray values otherwise), optional border crop, rounding to integer levels (as
MATLAB's uint8 pipeline has them), crop to whole blocks; at each of two scales, MSCN coefficients with the model's
7×7 window and 18 AGGD features per block (the second scale is MATLAB-bicubic ×1/2 of the first); a Gaussian fitted
to the blocks' 36-dimensional features; the score is the Mahalanobis-like distance of that Gaussian to the
pristine one, using the pseudo-inverse of the mean of both covariances.

Everything is float64, like MATLAB's reference code. The result equals BasicSR's ``niqe`` evaluated in float64 (to
~1e-13). BasicSR as shipped works in float32, where the local variance E[x²] − E[x]² cancels badly in flat areas:
on textured photos it agrees with this to ~1e-5, but flat backgrounds or blocky JPEG move its score by a few
hundredths up to a few tenths (skimage's astronaut: 3.1005 here, 3.0649 there).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ldl_backend.degradations.imresize import imresize
from ldl_backend.metrics.aggd import FEATURES_PER_SCALE, block_features
from ldl_backend.metrics.colour import rgb_to_y
from ldl_backend.metrics.errors import MetricInputError
from ldl_backend.metrics.niqe_parameters import NiqeParameters

SCALES = (1, 2)
# MSCN divides by (σ + 1) so flat areas (σ ≈ 0) do not blow up; 1 is on the 0–255 scale.
MSCN_STABILISER = 1.0


def _luma(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        dtype = getattr(image, "dtype", type(image).__name__)
        raise MetricInputError(
            f"NIQE takes an 8-bit image, got {dtype}",
            "round and clip to 8 bits first: np.clip(np.round(x), 0, 255).astype(np.uint8) on the 0–255 scale",
        )
    if image.ndim == 3 and image.shape[2] == 3:
        return rgb_to_y(image)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return image.reshape(image.shape[0], image.shape[1]).astype(np.float64)
    raise MetricInputError(
        f"NIQE takes an H×W gray or H×W×3 RGB image, got shape {image.shape}", "drop an alpha channel first"
    )


def local_statistics(image: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local mean and standard deviation under ``window``, borders replicated (the reference's ``'nearest'``)."""
    # filter2D correlates; flipping the window makes it the convolution the reference computes.
    kernel = np.ascontiguousarray(window[::-1, ::-1])
    mean = cv2.filter2D(image, cv2.CV_64F, kernel, borderType=cv2.BORDER_REPLICATE)
    mean_square = cv2.filter2D(image * image, cv2.CV_64F, kernel, borderType=cv2.BORDER_REPLICATE)
    # abs(): rounding can make E[x²] − E[x]² slightly negative in flat areas.
    return mean, np.sqrt(np.abs(mean_square - mean * mean))


def _scale_features(image: np.ndarray, window: np.ndarray, block: int, rows: int, cols: int) -> np.ndarray:
    mean, std = local_statistics(image, window)
    mscn = (image - mean) / (std + MSCN_STABILISER)
    features = np.empty((rows * cols, FEATURES_PER_SCALE))
    for r in range(rows):
        for c in range(cols):
            features[r * cols + c] = block_features(mscn[r * block : (r + 1) * block, c * block : (c + 1) * block])
    return features


def niqe(image: np.ndarray, params: NiqeParameters, *, crop_border: int = 0) -> float:
    """NIQE score of a uint8 H×W×3 RGB or H×W (H×W×1) gray image; lower means more natural-looking.

    ``crop_border`` pixels are dropped from every edge first; what remains is cut to whole
    ``params.block_size`` blocks (96×96), and at least two blocks with texture are needed.
    Raises MetricInputError for non-uint8 images, other channel counts, or an image too small or too flat.
    """
    luma = _luma(image)
    if int(crop_border) != crop_border or crop_border < 0:
        raise MetricInputError(
            f"NIQE: crop_border must be a non-negative integer, got {crop_border}", "use 0, or the scale for SR outputs"
        )
    if crop_border:
        luma = luma[crop_border:-crop_border, crop_border:-crop_border]
    # Integer levels, like the uint8 Y MATLAB's NIQE sees (numpy rounds halves to even, as the reference does).
    luma = np.round(luma)
    block = params.block_size
    rows, cols = luma.shape[0] // block, luma.shape[1] // block
    if rows * cols < 2:
        raise MetricInputError(
            f"NIQE needs at least two {block}×{block} blocks, but the image is {image.shape[0]}×{image.shape[1]}"
            + (f" ({luma.shape[0]}×{luma.shape[1]} after cropping {crop_border})" if crop_border else ""),
            f"score images of at least {block}×{2 * block} pixels (after the border crop)",
        )
    luma = luma[: rows * block, : cols * block]

    per_scale = []
    for scale in SCALES:
        per_scale.append(_scale_features(luma, params.gaussian_window, block // scale, rows, cols))
        if scale != SCALES[-1]:
            # The reference resizes on the 0–1 scale; the resize is linear, so this only matters for rounding.
            luma = imresize(luma / 255.0, 0.5, antialiasing=True) * 255.0
    features = np.concatenate(per_scale, axis=1)
    return _distance_to_pristine(features, params)


def _distance_to_pristine(features: np.ndarray, params: NiqeParameters) -> float:
    complete = features[~np.isnan(features).any(axis=1)]
    if complete.shape[0] < 2:
        raise MetricInputError(
            f"NIQE could fit only {complete.shape[0]} of {features.shape[0]} blocks: the image is (almost) flat",
            "NIQE describes texture statistics and is undefined for flat images; score a photo with content",
        )
    # Blocks with a NaN feature still count in the mean of their other features, as in the reference (nanmean).
    mu = np.nanmean(features, axis=0)
    cov = np.cov(complete, rowvar=False)
    difference = params.mu - mu
    quadratic = float(difference @ np.linalg.pinv((params.cov + cov) / 2.0) @ difference)
    return math.sqrt(max(quadratic, 0.0))
