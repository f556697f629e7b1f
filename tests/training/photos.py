"""Real photo crops (scikit-image's sample images) written as PNG files, for the training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skimage_data


def photo_crops() -> list[np.ndarray]:
    """Three uint8 RGB crops of about 100–160 px (astronaut, cat, coffee)."""
    return [
        skimage_data.astronaut()[20:180, 140:300],
        skimage_data.chelsea()[60:188, 120:264],
        skimage_data.coffee()[100:212, 200:360],
    ]


def write_photos(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, crop in enumerate(photo_crops()):
        Image.fromarray(crop).save(folder / f"photo{index}.png")
    return folder
