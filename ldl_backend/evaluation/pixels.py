"""Images as metrics see them: 8-bit RGB, as benchmark sets and published tables are."""

from __future__ import annotations

import numpy as np

from ldl_backend.imageio import ImageData


def to_rgb8(image: ImageData) -> np.ndarray:
    """H×W×3 uint8: gray is repeated into three channels, 16-bit and float are rounded to 8 bits, alpha is dropped
    (benchmark sets have none; scoring transparent pixels would measure the background, not the model)."""
    colour = image.colour
    if colour.dtype == np.uint16:
        colour = np.round(colour.astype(np.float64) / 257.0).astype(np.uint8)
    elif colour.dtype != np.uint8:
        colour = np.round(np.clip(colour.astype(np.float64), 0.0, 1.0) * 255.0).astype(np.uint8)
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.ascontiguousarray(colour)


def float_to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Float in [0, 1] (values outside are clipped) → uint8, rounded half to even as numpy does."""
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)
