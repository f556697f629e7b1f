"""Pixels of an image Pillow has decoded, for every Pillow mode, as colour + alpha arrays without losing bits.

Used for JPEG, WebP, BMP, 8-bit and 16-bit-gray PNG, and the TIFF variants tifffile cannot take (palette, CMYK,
bilevel, YCbCr, Lab). 16-bit RGB(A) never comes here: Pillow reduces it to 8 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ldl_backend.imageio.colour_profiles import Converted, cmyk_to_rgb, lab_to_rgb
from ldl_backend.imageio.samples import split_alpha, to_supported_dtype

# Mode → (colour channels, alpha channel, bits per sample) of what ``decode_pillow`` returns.
PILLOW_MODES: dict[str, tuple[int, bool, int]] = {
    "1": (1, False, 1),
    "L": (1, False, 8),
    "LA": (1, True, 8),
    "La": (1, True, 8),
    "P": (3, False, 8),
    "PA": (3, True, 8),
    "RGB": (3, False, 8),
    "RGBA": (3, True, 8),
    "RGBa": (3, True, 8),
    "RGBX": (3, False, 8),
    "CMYK": (3, False, 8),
    "YCbCr": (3, False, 8),
    "LAB": (3, False, 8),
    "HSV": (3, False, 8),
    "I;16": (1, False, 16),
    "I;16L": (1, False, 16),
    "I;16B": (1, False, 16),
    "I;16N": (1, False, 16),
    "I": (1, False, 32),
    "F": (1, False, 32),
}
_SIXTEEN_BIT_GRAY = ("I;16", "I;16L", "I;16B", "I;16N")


@dataclass(frozen=True)
class Pixels:
    """``colour`` H×W×C, ``alpha`` H×W or None (same dtype); ``icc_profile`` describes the returned pixels;
    ``note``: how they were derived, appended to ``source_mode`` (e.g. "naive conversion")."""

    colour: np.ndarray
    alpha: np.ndarray | None
    icc_profile: bytes | None
    note: str = ""


def has_transparency(image: Image.Image) -> bool:
    """Whether the image has an alpha channel or a transparent colour key / palette entries."""
    mode_has_alpha = PILLOW_MODES.get(image.mode, (0, False, 0))[1]
    return mode_has_alpha or ("transparency" in image.info and image.mode in ("1", "L", "P", "RGB", *_SIXTEEN_BIT_GRAY))


def decode_pillow(image: Image.Image) -> Pixels:
    """Arrays of a loaded Pillow image. Raises ValueError for a mode we do not know."""
    mode = image.mode
    raw_icc = image.info.get("icc_profile")
    icc = bytes(raw_icc) if isinstance(raw_icc, (bytes, bytearray)) and raw_icc else None
    transparent = "transparency" in image.info
    if mode == "1" and not transparent:
        bilevel, _ = split_alpha(to_supported_dtype(np.asarray(image)), has_alpha=False)
        return Pixels(bilevel, None, icc)
    if mode in _SIXTEEN_BIT_GRAY or mode in ("I", "F"):
        samples = to_supported_dtype(np.asarray(image))
        alpha = None
        key = image.info.get("transparency")
        if mode in _SIXTEEN_BIT_GRAY and isinstance(key, int):
            alpha = np.where(samples == key, 0, 65535).astype(np.uint16)
        return Pixels(samples[:, :, np.newaxis], alpha, icc)
    if mode == "CMYK":
        return _from_converted(cmyk_to_rgb(image, icc))
    if mode == "LAB":
        return _from_converted(lab_to_rgb(image))
    if mode in ("1", "L", "LA", "La"):
        gray = image.convert("LA") if mode in ("1", "La") or transparent else image
        colour, alpha = split_alpha(np.asarray(gray), has_alpha=gray.mode == "LA")
        return Pixels(colour, alpha, icc)
    if mode in PILLOW_MODES:
        with_alpha = PILLOW_MODES[mode][1] or transparent
        rgb = image.convert("RGBA" if with_alpha else "RGB") if mode not in ("RGB", "RGBA") or transparent else image
        colour, alpha = split_alpha(np.asarray(rgb), has_alpha=rgb.mode == "RGBA")
        return Pixels(colour, alpha, icc)
    raise ValueError(f"unsupported pixel mode {mode}")


def _from_converted(converted: Converted) -> Pixels:
    colour, _ = split_alpha(np.asarray(converted.image), has_alpha=False)
    return Pixels(colour, None, converted.icc_profile, converted.how)
