"""Pictures of the artifact map: 16-bit gray for editing tools, and a heat overlay on the image for people."""

from __future__ import annotations

import numpy as np

from ldl_backend.imageio.samples import float_to_uint16

# Heat colours from "probably fine" to "probably an artifact": transparent-ish yellow → orange → red.
_HEAT_STOPS = np.array([[255, 235, 59], [255, 152, 0], [229, 57, 53]], dtype=np.float32) / 255.0


def map_to_uint16(artifact_map: np.ndarray) -> np.ndarray:
    """H×W float map in [0, 1] → H×W×1 uint16 (full precision for masks painted in other tools)."""
    return float_to_uint16(artifact_map)[..., None]


def heat_colours(artifact_map: np.ndarray) -> np.ndarray:
    """H×W map in [0, 1] → H×W×3 float32 colours along the heat stops."""
    position = np.clip(artifact_map, 0.0, 1.0).astype(np.float32) * (len(_HEAT_STOPS) - 1)
    lower = np.minimum(position.astype(np.int64), len(_HEAT_STOPS) - 2)
    fraction = (position - lower)[..., None]
    return _HEAT_STOPS[lower] * (1.0 - fraction) + _HEAT_STOPS[lower + 1] * fraction


def map_overlay(image: np.ndarray, artifact_map: np.ndarray, *, opacity: float = 0.75) -> np.ndarray:
    """The image (H×W×C uint8/uint16/float, C = 1 or 3) dimmed to gray, with the map painted over it in heat
    colours whose opacity grows with the map value. Returns H×W×3 uint8 (a picture to look at, not data)."""
    if image.shape[:2] != artifact_map.shape:
        raise ValueError(f"image {image.shape[:2]} and map {artifact_map.shape} differ in size")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], not {opacity}")
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(image.dtype, 1.0)
    pixels = np.clip(image.astype(np.float32) / scale, 0.0, 1.0)
    gray = pixels.mean(axis=2, keepdims=True) if pixels.shape[2] == 3 else pixels
    # Dimmed gray keeps the picture readable while the colours carry the map.
    base = 0.25 + 0.5 * gray
    weight = (opacity * np.sqrt(np.clip(artifact_map, 0.0, 1.0)))[..., None].astype(np.float32)
    result = base * (1.0 - weight) + heat_colours(artifact_map) * weight
    return np.round(result * 255.0).astype(np.uint8)
