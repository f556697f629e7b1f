"""8-bit image reading and writing through Pillow (the full 16-bit/float/ICC pipeline is issue 3's).

Colour channels and alpha are kept apart: the network sees RGB (or gray), alpha is resampled on its own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ldl_backend.errors import LdlError
from ldl_backend.storage import write_atomically


class ImageFileError(LdlError):
    code = "bad_image"


@dataclass(frozen=True)
class LoadedImage:
    """``colour``: H×W×3 float32 in [0, 1]; ``alpha``: H×W float32 in [0, 1] or None; ``icc``: profile bytes."""

    colour: np.ndarray
    alpha: np.ndarray | None
    icc: bytes | None


def read_image(path: Path) -> LoadedImage:
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except FileNotFoundError as error:
        raise ImageFileError(f"{path} does not exist", "check the path") from error
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ImageFileError(
            f"{path.name} could not be read as an image: {error}", "use PNG, JPEG, WebP or TIFF"
        ) from error
    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    rgba = image.convert("RGBA") if has_alpha else None
    rgb = (rgba or image).convert("RGB")
    colour = np.asarray(rgb, dtype=np.float32) / 255.0
    alpha = np.asarray(rgba, dtype=np.float32)[..., 3] / 255.0 if rgba is not None else None
    return LoadedImage(colour, alpha, icc if isinstance(icc, bytes) else None)


def resize_alpha(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resample an alpha plane to ``size`` = (height, width) with Lanczos."""
    plane = Image.fromarray(alpha.astype(np.float32), mode="F")
    resized = plane.resize((size[1], size[0]), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def write_png(path: Path, colour: np.ndarray, alpha: np.ndarray | None = None, icc: bytes | None = None) -> None:
    """Write an 8-bit PNG atomically from float arrays in [0, 1]."""
    pixels = np.clip(np.rint(colour * 255.0), 0, 255).astype(np.uint8)
    if alpha is not None:
        pixels = np.dstack([pixels, np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8)])
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", icc_profile=icc)
    write_atomically(path, buffer.getvalue())
