"""The five layers of one upscale (``detail``, ``reference``, ``map``, ``mask``, ``blend``) and how they are saved."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ldl_backend.artifacts.overlay import map_overlay, map_to_uint16
from ldl_backend.errors import OutputExistsError
from ldl_backend.imageio import ImageData, write_image

LAYER_NAMES = ("detail", "reference", "map", "map_overlay", "mask", "blend")


@dataclass(frozen=True)
class UpscaleLayers:
    """``detail``: the generator's output. ``reference``: a faithful upscale of the same input. ``artifact_map``:
    H×W float32 in [0, 1] (1 = likely artifact). ``mask``: H×W float32 in [0, 1] (1 = keep detail). ``blend``:
    reference + mask·(detail − reference), the dtype and alpha of ``detail``."""

    detail: ImageData
    reference: ImageData
    artifact_map: np.ndarray
    mask: np.ndarray
    blend: ImageData


def layer_paths(folder: Path, stem: str, deep: bool) -> dict[str, Path]:
    """Where each layer goes: PNG, except the image layers of a deeper-than-8-bit input (16-bit or float TIFF)."""
    image_suffix = ".tif" if deep else ".png"
    suffixes = {"detail": image_suffix, "reference": image_suffix, "blend": image_suffix}
    return {name: folder / f"{stem}_{name}{suffixes.get(name, '.png')}" for name in LAYER_NAMES}


def write_layers(layers: UpscaleLayers, folder: Path, stem: str, *, overwrite: bool = False) -> dict[str, Path]:
    """Write every layer into ``folder`` as ``<stem>_<layer>``; all appear or none do (written to temporary files
    first, renamed at the end). Raises ``OutputExistsError`` before writing anything when a file exists and
    ``overwrite`` is False."""
    deep = layers.detail.dtype != np.uint8
    paths = layer_paths(folder, stem, deep)
    if not overwrite:
        existing = [path.name for path in paths.values() if path.exists()]
        if existing:
            raise OutputExistsError(
                f"{', '.join(existing)} already exist in {folder}", "add --overwrite or choose another folder"
            )
    pictures = {
        "detail": layers.detail,
        "reference": layers.reference,
        "map": ImageData(map_to_uint16(layers.artifact_map)),
        "map_overlay": ImageData(map_overlay(layers.detail.colour, layers.artifact_map)),
        "mask": ImageData(map_to_uint16(layers.mask)),
        "blend": layers.blend,
    }
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, Path]] = []
    try:
        for name, path in paths.items():
            temporary = path.with_name(f".{path.name}.{os.getpid()}.layer")
            written.append((temporary, path))
            write_image(temporary, pictures[name], file_format=path.suffix.lstrip("."), overwrite=True)
        for temporary, path in written:
            temporary.replace(path)
    finally:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)
    return paths
