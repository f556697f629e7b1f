"""Writing the result, the mask and the map to files, keeping the source's colour profile and EXIF."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldl_backend.imageio import ImageData, ImageMetadata, write_image


class ExportFormat(enum.Enum):
    PNG = "png"
    TIFF = "tiff"  # always 16-bit (or float for float images): the format for further editing
    JPEG = "jpeg"
    WEBP = "webp"

    @property
    def suffix(self) -> str:
        return {"png": ".png", "tiff": ".tif", "jpeg": ".jpg", "webp": ".webp"}[self.value]

    @classmethod
    def from_path(cls, path: Path) -> ExportFormat | None:
        suffix = path.suffix.lower()
        return {".png": cls.PNG, ".tif": cls.TIFF, ".tiff": cls.TIFF, ".jpg": cls.JPEG, ".jpeg": cls.JPEG}.get(
            suffix, cls.WEBP if suffix == ".webp" else None
        )


@dataclass(frozen=True)
class ExportOptions:
    """``quality`` (1–100) for JPEG and WebP; ``overwrite`` replaces an existing file."""

    format: ExportFormat = ExportFormat.PNG
    quality: int = 92
    overwrite: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality {self.quality} must be between 1 and 100")


def export_image(image: ImageData, path: Path, options: ExportOptions) -> Path:
    """Write ``image`` to ``path`` atomically (nothing is left behind on failure). Raises the backend's
    ``ImageFileError``/``OutputExistsError`` with a message and hint, e.g. for alpha in a JPEG."""
    if options.format is ExportFormat.TIFF and image.dtype == np.uint8:
        image = _widened(image)
    write_image(path, image, file_format=options.format.value, quality=options.quality, overwrite=options.overwrite)
    return path


def export_gray(values: np.ndarray, metadata: ImageMetadata, path: Path, overwrite: bool = False) -> Path:
    """Write an H×W float map or mask in [0, 1] as a 16-bit grayscale PNG or TIFF (by the suffix)."""
    samples = np.round(np.clip(values, 0.0, 1.0) * 65535.0).astype(np.uint16)[:, :, None]
    fmt = "tiff" if path.suffix.lower() in (".tif", ".tiff") else "png"
    # Masks carry no colour profile: they are data, not a picture.
    plain = ImageMetadata(dpi=metadata.dpi)
    write_image(path, ImageData(samples, None, plain), file_format=fmt, overwrite=overwrite)
    return path


def _widened(image: ImageData) -> ImageData:
    def widen(samples: np.ndarray) -> np.ndarray:
        return samples.astype(np.uint16) * np.uint16(257)

    alpha = None if image.alpha is None else widen(image.alpha)
    return ImageData(widen(image.colour), alpha, image.metadata)
