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


@dataclass(frozen=True)
class PendingImage:
    """An image to write as part of a group that appears all at once (``write_together``)."""

    path: Path
    image: ImageData
    file_format: str | None = None
    quality: int = 95


def layer_images(layers: UpscaleLayers, folder: Path, stem: str) -> list[PendingImage]:
    """Every layer as ``folder/<stem>_<layer>``: images in their own depth, map and mask as 16-bit gray PNG."""
    paths = layer_paths(folder, stem, deep=layers.detail.dtype != np.uint8)
    pictures = {
        "detail": layers.detail,
        "reference": layers.reference,
        "map": ImageData(map_to_uint16(layers.artifact_map)),
        "map_overlay": ImageData(map_overlay(layers.detail.colour, layers.artifact_map)),
        "mask": ImageData(map_to_uint16(layers.mask)),
        "blend": layers.blend,
    }
    return [PendingImage(paths[name], pictures[name], paths[name].suffix.lstrip(".")) for name in LAYER_NAMES]


def write_together(images: list[PendingImage], *, overwrite: bool = False) -> None:
    """Write all ``images`` or none: each goes to a temporary file beside its destination, and they are renamed
    into place only when every one was written. Raises ``OutputExistsError`` before writing anything when a
    destination exists and ``overwrite`` is False, and the writer's errors (after removing the temporaries)."""
    if len({item.path.resolve() for item in images}) != len(images):
        raise OutputExistsError("two outputs of one job have the same name", "choose distinct output names")
    if not overwrite:
        existing = [str(item.path) for item in images if item.path.exists()]
        if existing:
            raise OutputExistsError(f"{', '.join(existing)} already exist", "add --overwrite or choose other names")
    written: list[tuple[Path, Path]] = []
    try:
        for item in images:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = item.path.with_name(f".{item.path.name}.{os.getpid()}.pending")
            written.append((temporary, item.path))
            fmt = item.file_format or item.path.suffix.lstrip(".")
            write_image(temporary, item.image, file_format=fmt, quality=item.quality, overwrite=True)
        for temporary, path in written:
            temporary.replace(path)
    finally:
        for temporary, _ in written:
            temporary.unlink(missing_ok=True)


def write_layers(layers: UpscaleLayers, folder: Path, stem: str, *, overwrite: bool = False) -> dict[str, Path]:
    """Write every layer into ``folder`` as ``<stem>_<layer>`` (all or none); returns the paths by layer name."""
    images = layer_images(layers, folder, stem)
    write_together(images, overwrite=overwrite)
    return {name: item.path for name, item in zip(LAYER_NAMES, images, strict=True)}
