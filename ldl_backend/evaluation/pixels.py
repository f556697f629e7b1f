"""Images as metrics see them: 8-bit RGB, as benchmark sets and published tables are."""

from __future__ import annotations

import numpy as np

from ldl_backend.imageio import ImageData
from ldl_backend.imageio.samples import to_uint8


def to_rgb8(image: ImageData) -> np.ndarray:
    """H×W×3 uint8: gray is repeated into three channels, 16-bit and float are rounded to 8 bits, alpha is dropped
    (benchmark sets have none; scoring transparent pixels would measure the background, not the model)."""
    colour = to_uint8(image.colour)
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.ascontiguousarray(colour)
