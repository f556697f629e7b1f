"""Image files in and out: PNG, JPEG, WebP, TIFF and BMP read without losing bits, alpha, profile or orientation;
PNG, TIFF, JPEG and WebP written atomically.

``read_image`` / ``probe_image`` / ``write_image`` are the entry points; ``ImageData`` is what travels between them.
"""

from ldl_backend.imageio.colour_profiles import srgb_profile_bytes
from ldl_backend.imageio.formats import INPUT_SUFFIXES, READABLE_FORMATS, WRITABLE_FORMATS
from ldl_backend.imageio.image import ImageData, ImageMetadata, dtype_max
from ldl_backend.imageio.probe import ImageInfo, probe_image
from ldl_backend.imageio.reader import DEFAULT_MAX_PIXELS, check_image_bytes, read_image
from ldl_backend.imageio.writer import write_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "INPUT_SUFFIXES",
    "READABLE_FORMATS",
    "WRITABLE_FORMATS",
    "ImageData",
    "ImageInfo",
    "ImageMetadata",
    "check_image_bytes",
    "dtype_max",
    "probe_image",
    "read_image",
    "srgb_profile_bytes",
    "write_image",
]
