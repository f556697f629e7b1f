"""Colour conversions that need a profile: CMYK and Lab pixels become sRGB through LittleCMS (PIL.ImageCms)."""

from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass

from PIL import Image, ImageCms

# ICC header bytes 24–35: the creation date and time, six big-endian uint16.
_ICC_DATE = slice(24, 36)
_FIXED_DATE = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)


@functools.cache
def srgb_profile_bytes() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in one), for pixels we converted to sRGB ourselves.

    LittleCMS stamps the current time into the header; a fixed date makes every run write the same bytes (the
    profile ID, bytes 84–99, is left zero by LittleCMS, so nothing else depends on the date)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    if not any(profile[84:100]):
        profile[_ICC_DATE] = _FIXED_DATE
    return bytes(profile)


@dataclass(frozen=True)
class Converted:
    """``image``: mode RGB. ``icc_profile``: the profile that now describes it (None: untagged, i.e. sRGB).
    ``how``: a short note for ``source_mode`` when the conversion was not the colour-managed one.
    """

    image: Image.Image
    icc_profile: bytes | None
    how: str = ""


def cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> Converted:
    """Convert a CMYK image to sRGB through its own profile (perceptual intent), else with Pillow's naive formula.

    A profile LittleCMS cannot use (damaged, or not a CMYK profile) falls back to the naive formula and says so in
    ``how`` instead of failing: the picture is still readable, only its colours are approximate.
    """
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(
                image, source, target, renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            return Converted(image.convert("RGB"), None, "embedded profile unusable, naive conversion")
        if converted is not None:
            return Converted(converted, srgb_profile_bytes())
    return Converted(image.convert("RGB"), None, "no profile, naive conversion")


def lab_to_rgb(image: Image.Image) -> Converted:
    """Convert a CIE Lab image (D50, as TIFF and JPEG store it) to sRGB."""
    source = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB", 5000))
    target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    converted = ImageCms.profileToProfile(image, source, target, outputMode="RGB")
    if converted is None:  # only with inPlace=True, which we never ask for
        raise RuntimeError("ImageCms.profileToProfile returned no image")
    return Converted(converted, srgb_profile_bytes())
