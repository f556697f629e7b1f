"""The luma that super-resolution papers score on: MATLAB ``rgb2ycbcr``'s Y (ITU-R BT.601, studio range 16–235)."""

from __future__ import annotations

import numpy as np

from ldl_backend.metrics.errors import MetricInputError

# BT.601 weights scaled to the 219-level studio swing; MATLAB's rgb2ycbcr and BasicSR use these exact numbers.
Y_WEIGHTS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """Y of an H×W×3 RGB image, uint8 or float in [0, 255]: an H×W float64 array in [16, 235], not rounded.

    ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``. Note the channel order: RGB, not OpenCV's BGR.
    Raises MetricInputError for other shapes and for dtypes other than uint8 and float.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise MetricInputError(
            f"rgb_to_y takes an H×W×3 RGB image, got shape {image.shape}",
            "drop an alpha channel first; a gray image is already luma and needs no conversion",
        )
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise MetricInputError(
            f"rgb_to_y takes uint8 pixels or float pixels in [0, 255], got {image.dtype}",
            "convert 16-bit images to 8 bits (round(x / 257)) or to float scaled to [0, 255]",
        )
    rgb = image.astype(np.float64)
    return Y_OFFSET + rgb @ np.asarray(Y_WEIGHTS, dtype=np.float64) / 255.0
