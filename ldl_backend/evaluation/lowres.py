"""Low-resolution inputs made from ground truth, the way published tables make them, cached between runs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from ldl_backend.degradations.imresize import bicubic_degrade, modcrop
from ldl_backend.errors import LdlError
from ldl_backend.imageio import ImageData, read_image, write_image
from ldl_backend.imageio.samples import to_uint8

# Bumped whenever the recipe below changes, so old cache files are never mistaken for new ones.
_RECIPE_VERSION = 1


class Degradation(str, Enum):
    """``bicubic``: MATLAB-style bicubic downscaling (the synthetic benchmarks). ``realesrgan``: Real-ESRGAN's
    second-order degradation with LDL's real-world ranges, seeded per image."""

    BICUBIC = "bicubic"
    REALESRGAN = "realesrgan"


@dataclass(frozen=True)
class LowResRecipe:
    degradation: Degradation
    scale: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.scale not in (2, 3, 4, 8):
            raise ValueError(f"the evaluation scale must be 2, 3, 4 or 8, not {self.scale}")
        if self.seed < 0:
            raise ValueError(f"the seed must be 0 or more, not {self.seed}")

    def describe(self) -> str:
        if self.degradation is Degradation.BICUBIC:
            return (
                f"HR cropped to a multiple of {self.scale} (modcrop), MATLAB-style bicubic ×1/{self.scale} with "
                "antialiasing, rounded to 8 bits"
            )
        return (
            f"HR cropped to a multiple of {self.scale}, Real-ESRGAN second-order degradation (LDL's real-world "
            f"ranges) ×1/{self.scale}, seed {self.seed} mixed with each image's name, rounded to 8 bits"
        )

    def image_seed(self, name: str) -> int:
        """A seed per image that does not change when other images join the set."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def ground_truth(hr: np.ndarray, scale: int) -> np.ndarray:
    """The HR image the SR output is compared with: cropped to a multiple of ``scale`` like its LR."""
    return modcrop(hr, scale)


def make_low_res(hr: np.ndarray, recipe: LowResRecipe, name: str) -> np.ndarray:
    """H×W×3 uint8 HR → (H/s)×(W/s)×3 uint8 LR (H, W cropped to multiples of s first)."""
    cropped = ground_truth(hr, recipe.scale).astype(np.float32) / 255.0
    if recipe.degradation is Degradation.BICUBIC:
        return to_uint8(bicubic_degrade(cropped, recipe.scale))
    from ldl_backend.degradations.realesrgan import degrade_image  # heavier imports, only when asked

    return to_uint8(degrade_image(cropped, recipe.scale, recipe.image_seed(name)))


class LowResCache:
    """LR images by (HR file contents, recipe, name) in ``folder``; a corrupt entry is rebuilt, not trusted."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def low_res(self, hr_file: Path, hr: np.ndarray, recipe: LowResRecipe, name: str) -> np.ndarray:
        key = hashlib.sha256()
        key.update(hr_file.read_bytes())
        key.update(f"{_RECIPE_VERSION}:{recipe.degradation.value}:{recipe.scale}:{recipe.seed}:{name}".encode())
        path = self._folder / f"{key.hexdigest()[:32]}.png"
        if path.is_file():
            try:
                cached = read_image(path).colour
            except LdlError:  # a damaged cache file is rebuilt below
                cached = None
            expected = (hr.shape[0] // recipe.scale, hr.shape[1] // recipe.scale, 3)
            if cached is not None and cached.dtype == np.uint8 and cached.shape == expected:
                return cached
        low = make_low_res(hr, recipe, name)
        write_image(path, ImageData(low), overwrite=True)
        return low
