"""Training images on disk: listing a folder, reading a file as float RGB, and the errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ldl_backend.errors import LdlError
from ldl_backend.imageio import INPUT_SUFFIXES, dtype_max, read_image


class TrainingDataError(LdlError):
    """A training or validation folder is missing, empty, unreadable or does not pair up."""

    code = "bad_training_data"


def list_images(folder: Path, what: str = "--data") -> tuple[Path, ...]:
    """The image files directly in ``folder``, sorted by name. Raises ``TrainingDataError`` for a missing folder
    or one without images."""
    if not folder.is_dir():
        raise TrainingDataError(f"{folder} is not a folder", f"give {what} a folder of images")
    images = tuple(sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES))
    if not images:
        suffixes = ", ".join(sorted(INPUT_SUFFIXES))
        raise TrainingDataError(f"{folder} holds no images", f"put {suffixes} files in {folder}")
    return images


def read_rgb(path: Path) -> np.ndarray:
    """The image at ``path`` as H×W×3 float32 in [0, 1] (gray is repeated, alpha dropped, 16 bits kept).

    Raises ``TrainingDataError`` naming the file when it cannot be read.
    """
    try:
        image = read_image(path)
    except LdlError as error:
        raise TrainingDataError(
            f"training image {path} could not be read: {error.message}", "remove or replace that file"
        ) from error
    colour = image.colour.astype(np.float32)
    if image.colour.dtype != np.float32:
        colour /= dtype_max(image.colour.dtype)
    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    return np.clip(colour, 0.0, 1.0)
