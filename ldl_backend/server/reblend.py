"""Re-blend a finished job from its stored layers with a new threshold/softness or a user mask; never re-runs a
model. Gives exactly what ``upscale_with_layers`` gives for the same options."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ldl_backend.artifacts.blend import blend_image
from ldl_backend.artifacts.masks import check_mask, mask_from_map
from ldl_backend.server import json_body, raw_image
from ldl_backend.server.errors import bad_request
from ldl_backend.server.layer_cache import LayerCache


def parse_settings(body: bytes) -> tuple[float, float]:
    """``{"threshold": float, "softness": float}`` → the pair; 400 for anything else (413 for a huge body)."""
    document = json_body.parse_object(body, '{"threshold": 0.3, "softness": 0.4}')
    if set(document) != {"threshold", "softness"}:
        raise bad_request('the body must be {"threshold": float, "softness": float}', "send exactly these two fields")
    values: list[float] = []
    for name in ("threshold", "softness"):
        value = document[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) and 0 <= value <= 1)
        ):
            raise bad_request(f"{name} must be a number between 0 and 1, not {value!r}")
        values.append(float(value))
    return values[0], values[1]


def parse_mask(body: bytes, headers: Mapping[str, str], max_pixels: int) -> np.ndarray:
    """A raw 1-channel mask → H×W float32 (uint8/uint16 scaled to [0, 1]; float32 as sent)."""
    header = raw_image.parse_header(headers, max_pixels)
    if header.channels != 1:
        raise bad_request(f"a mask has 1 channel, not {header.channels}", "send X-Ldl-Channels: 1")
    pixels = raw_image.decode_pixels(header, body)[..., 0]
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32) / np.float32(255)
    if pixels.dtype == np.uint16:
        return pixels.astype(np.float32) / np.float32(65535)
    return pixels


def reblend(cache: LayerCache, job_id: str, *, settings: tuple[float, float] | None, mask: np.ndarray | None) -> None:
    """Recompute ``mask`` (from the map with ``settings``, or the user ``mask``) and ``blend``; replace both."""
    detail = cache.image_layer(job_id, "detail")
    reference = cache.image_layer(job_id, "reference")
    if mask is not None:
        new_mask = check_mask(mask, detail.height, detail.width)
    elif settings is not None:
        new_mask = mask_from_map(cache.plane(job_id, "map"), settings[0], settings[1])
    else:
        raise bad_request("nothing to re-blend with", "send a threshold and softness, or a mask")
    blended = blend_image(detail, reference, new_mask)
    cache.replace_plane(job_id, "blend", blended.colour)
    cache.replace_plane(job_id, "mask", new_mask.astype(np.float32, copy=False))
