"""The pixels that full-reference metrics compare, prepared the way BasicSR (and so LDL's tables) prepares them.

Both images must be 8-bit and the same shape. ``crop_border`` pixels are dropped from every edge (the ×s
convention crops s pixels, where the upscaler has no context); with ``y_channel`` an RGB image is reduced to its
BT.601 luma, while a gray image is already luma and is used as it is. Everything is float64 on the 0–255 scale.
"""

from __future__ import annotations

import numpy as np

from ldl_backend.metrics.colour import rgb_to_y
from ldl_backend.metrics.errors import MetricInputError

_TO_UINT8 = "round and clip to 8 bits first: np.clip(np.round(x), 0, 255).astype(np.uint8) for x on the 0–255 scale"


def _check_image(image: np.ndarray, metric: str, which: str) -> None:
    if not isinstance(image, np.ndarray):
        raise MetricInputError(
            f"{metric}: the {which} image is a {type(image).__name__}, not a numpy array",
            "convert it with np.asarray(...)",
        )
    if image.dtype != np.uint8:
        raise MetricInputError(f"{metric} takes 8-bit images, but the {which} image is {image.dtype}", _TO_UINT8)
    if image.ndim not in (2, 3) or image.size == 0:
        raise MetricInputError(
            f"{metric} takes an H×W or H×W×C image, but the {which} image has shape {image.shape}",
            "pass one image at a time, height first",
        )


def _crop(image: np.ndarray, crop_border: int) -> np.ndarray:
    if crop_border == 0:
        return image
    return image[crop_border:-crop_border, crop_border:-crop_border, ...]


def scored_pair(
    a: np.ndarray, b: np.ndarray, *, crop_border: int, y_channel: bool, metric: str, min_side: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Validate two uint8 images and return them as H'×W'×C' float64 arrays (C' = 1 with ``y_channel``).

    ``min_side`` is the smallest height and width the metric can use after cropping (SSIM needs its window).
    Raises MetricInputError naming what is wrong and what to do.
    """
    _check_image(a, metric, "first")
    _check_image(b, metric, "second")
    if a.shape != b.shape:
        raise MetricInputError(
            f"{metric} compares images of the same shape, got {a.shape} and {b.shape}",
            "crop the reference to the output (for ×s upscaling, modcrop the HR image to a multiple of s)",
        )
    if int(crop_border) != crop_border or crop_border < 0:
        raise MetricInputError(
            f"{metric}: crop_border must be a non-negative integer, got {crop_border}",
            "use 0, or the upscaling factor (4 for ×4) as LDL does",
        )
    height, width = a.shape[0] - 2 * crop_border, a.shape[1] - 2 * crop_border
    if height < min_side or width < min_side:
        raise MetricInputError(
            f"{metric}: a {a.shape[0]}×{a.shape[1]} image cropped by {crop_border} on each side leaves "
            f"{max(height, 0)}×{max(width, 0)} pixels; {metric} needs at least {min_side}×{min_side}",
            "use a smaller crop_border or larger images",
        )
    channels = 1 if a.ndim == 2 else a.shape[2]
    if y_channel and channels not in (1, 3):
        raise MetricInputError(
            f"{metric} on the Y channel takes RGB or gray images, got {channels} channels",
            "drop the alpha channel first (image[..., :3])",
        )
    return _prepare(_crop(a, crop_border), y_channel), _prepare(_crop(b, crop_border), y_channel)


def _prepare(image: np.ndarray, y_channel: bool) -> np.ndarray:
    if image.ndim == 2:
        image = image[:, :, None]
    if y_channel and image.shape[2] == 3:
        return rgb_to_y(image)[:, :, None]
    return image.astype(np.float64)
