"""The image as it travels through the product: pixels in their own dtype, alpha beside them, and metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))


@dataclass(frozen=True)
class ImageMetadata:
    """What the output must carry over from the input.

    ``icc_profile``: the colour profile bytes (None = untagged, treated as sRGB). ``exif``: raw EXIF bytes with the
    orientation already applied to the pixels and reset to 1. ``source_format``: Pillow's format name of the input
    ("PNG", "JPEG", "WEBP", "TIFF", …). ``source_mode``: how the file stored its pixels, for messages (e.g. "RGBA;16",
    "CMYK", "P+transparency"). ``dpi``: (x, y) or None.
    """

    icc_profile: bytes | None = None
    exif: bytes | None = None
    source_format: str = ""
    source_mode: str = ""
    dpi: tuple[float, float] | None = None


@dataclass(frozen=True)
class ImageData:
    """``colour``: H×W×C with C = 1 (gray) or 3 (RGB), dtype uint8, uint16 or float32 (nominal range 0–1, values
    outside are kept). ``alpha``: H×W of the same dtype, or None. Bit depth is the array's dtype, never guessed from
    the pixel values.
    """

    colour: np.ndarray
    alpha: np.ndarray | None = None
    metadata: ImageMetadata = field(default_factory=ImageMetadata)

    def __post_init__(self) -> None:
        if self.colour.ndim != 3 or self.colour.shape[2] not in (1, 3):
            raise ValueError(f"colour must be H×W×1 or H×W×3, not {self.colour.shape}")
        if self.colour.dtype not in SUPPORTED_DTYPES:
            raise ValueError(f"colour dtype must be uint8, uint16 or float32, not {self.colour.dtype}")
        if self.alpha is not None and (
            self.alpha.shape != self.colour.shape[:2] or self.alpha.dtype != self.colour.dtype
        ):
            raise ValueError(
                f"alpha must be H×W with the colour's dtype: {self.alpha.shape} {self.alpha.dtype} "
                f"vs {self.colour.shape} {self.colour.dtype}"
            )

    @property
    def height(self) -> int:
        return int(self.colour.shape[0])

    @property
    def width(self) -> int:
        return int(self.colour.shape[1])

    @property
    def dtype(self) -> np.dtype[np.generic]:
        return self.colour.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of the pixel arrays (colour and alpha)."""
        return self.colour.nbytes + (0 if self.alpha is None else self.alpha.nbytes)

    @property
    def is_gray(self) -> bool:
        return self.colour.shape[2] == 1


def dtype_max(dtype: np.dtype[np.generic]) -> float:
    """The value that stands for 1.0 in ``dtype`` (255, 65535, or 1.0 for float)."""
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    return 1.0
