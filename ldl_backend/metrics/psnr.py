"""PSNR on 8-bit images with BasicSR's conventions (``calculate_psnr``), the numbers LDL's tables report."""

from __future__ import annotations

import math

import numpy as np

from ldl_backend.metrics.scored_pixels import scored_pair

PEAK = 255.0


def psnr(a: np.ndarray, b: np.ndarray, *, crop_border: int = 0, y_channel: bool = False) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 images of the same shape (H×W or H×W×C).

    ``10 · log10(255² / MSE)`` over all pixels and channels left after cropping ``crop_border`` from each edge;
    with ``y_channel`` RGB images are compared on their BT.601 luma (LDL's test configs: Y, crop = scale).
    Identical images give ``inf``. Raises MetricInputError for non-uint8 images, different shapes, a crop that
    leaves nothing, or ``y_channel`` with a channel count other than 1 or 3.
    """
    x, y = scored_pair(a, b, crop_border=crop_border, y_channel=y_channel, metric="PSNR")
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(PEAK * PEAK / mse)
