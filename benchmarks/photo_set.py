"""Photos with ground truth for training and measuring the artifact-map estimate (scikit-image's bundled photos).

Split by image, never by crop: the predictor trains on ``TRAINING_PHOTOS`` and the benchmark measures on
``HELD_BACK_PHOTOS``. The two motorcycle views are one scene, so both train. Low-resolution inputs are MATLAB-style
bicubic ×1/4 of the HR crop, rounded to 8 bits like a real input file. Generator outputs are cached per model
(one ``.npz`` per crop with the 8 dihedral-transform outputs), because the x4plus passes dominate the cost.
Needs scikit-image (the ``dev``/``samples`` extras).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ldl_backend.artifacts.references import dihedral, inverse_dihedral
from ldl_backend.artifacts.training_map import refined_artifact_map
from ldl_backend.degradations.imresize import imresize
from ldl_backend.engine.runners import TileRunner

HELD_BACK_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
TRAINING_PHOTOS = (
    "motorcycle_left",
    "motorcycle_right",
    "ihc",
    "hubble",
    "retina",
    "camera",
    "brick",
    "grass",
    "gravel",
    "coins",
    "moon",
)
# file in skimage/data, crops taken (nearest the centre first)
_FILES: dict[str, tuple[str, int]] = {
    "astronaut": ("astronaut.png", 4),
    "chelsea": ("chelsea.png", 2),
    "coffee": ("coffee.png", 4),
    "rocket": ("rocket.jpg", 4),
    "motorcycle_left": ("motorcycle_left.png", 3),
    "motorcycle_right": ("motorcycle_right.png", 2),
    "ihc": ("ihc.png", 2),
    "hubble": ("hubble_deep_field.jpg", 2),
    "retina": ("retina.jpg", 2),
    "camera": ("camera.png", 2),
    "brick": ("brick.png", 1),
    "grass": ("grass.png", 1),
    "gravel": ("gravel.png", 1),
    "coins": ("coins.png", 1),
    "moon": ("moon.png", 1),
}
CROP = 320
SCALE = 4
TOP_FRACTION = 0.10


@dataclass(frozen=True)
class PhotoCrop:
    """``hr``: H×W×3 float32 ground truth; ``low_res``: (H/4)×(W/4)×3 float32, 8-bit values."""

    name: str
    photo: str
    hr: np.ndarray
    low_res: np.ndarray


def photo_crops(photos: tuple[str, ...], max_crops: int | None = None) -> list[PhotoCrop]:
    """Up to ``CROP``×``CROP`` crops of each named photo (a multiple of 4 in both sides)."""
    import skimage.io

    data = Path(skimage.io.__file__).parent.parent / "data"
    crops: list[PhotoCrop] = []
    for photo in photos:
        file, count = _FILES[photo]
        image = np.asarray(skimage.io.imread(data / file))
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        image = image[..., :3]
        if photo == "retina":  # 1411 px, mostly black: halve it so a crop sees vessels
            image = np.clip(np.round(imresize(image.astype(np.float32) / 255, 0.5) * 255), 0, 255).astype(np.uint8)
        for index, hr in enumerate(_centre_first_crops(image, min(count, max_crops or count))):
            hr_float = hr.astype(np.float32) / 255
            low = np.clip(np.round(imresize(hr_float, 1 / SCALE) * 255), 0, 255).astype(np.float32) / 255
            crops.append(PhotoCrop(f"{photo}_{index}", photo, hr_float, low))
    return crops


def _centre_first_crops(image: np.ndarray, count: int) -> list[np.ndarray]:
    height, width = image.shape[:2]
    crop_h, crop_w = min(CROP, height // 4 * 4), min(CROP, width // 4 * 4)
    ys = np.linspace(0, height - crop_h, max(1, -(-height // CROP))).astype(int)
    xs = np.linspace(0, width - crop_w, max(1, -(-width // CROP))).astype(int)
    centre = np.array([height / 2 - crop_h / 2, width / 2 - crop_w / 2])
    positions = sorted(((y, x) for y in ys for x in xs), key=lambda p: float(np.abs(np.array(p) - centre).sum()))
    return [image[y : y + crop_h, x : x + crop_w] for y, x in positions[:count]]


def transform_outputs(
    crop: PhotoCrop, runner: TileRunner, cache: Path | None, log: Callable[[str], None] = print
) -> np.ndarray:
    """The runner's output for each of the 8 dihedral transforms of ``crop.low_res``, transformed back:
    8×H×W×3 float32 (index 0 = the plain upscale). Read from / written to ``cache/NAME.npz`` when given."""
    path = None if cache is None else cache / f"{crop.name}.npz"
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as stored:
            return stored["sr"].astype(np.float32)
    batch = np.ascontiguousarray(crop.low_res.transpose(2, 0, 1))[None]
    start = time.perf_counter()
    outputs = [
        inverse_dihedral(runner.run(np.ascontiguousarray(dihedral(batch, index))), index)[0].transpose(1, 2, 0)
        for index in range(8)
    ]
    stacked = np.stack(outputs).astype(np.float16)  # half precision halves the cache; far below 8-bit steps
    log(f"  {crop.name}: 8 passes in {time.perf_counter() - start:.1f}s")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, hr=np.round(crop.hr * 255).astype(np.uint8), lr=crop.low_res, sr=stacked)
    return stacked.astype(np.float32)


def top_fraction_label(hr: np.ndarray, detail: np.ndarray, fraction: float = TOP_FRACTION) -> np.ndarray:
    """H×W bool: the pixels in the top ``fraction`` of the training-form LDL map of ``detail`` against ``hr``."""

    def tensor(image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float64))[None]

    artifact_map = refined_artifact_map(tensor(hr), tensor(detail))[0, 0].numpy()
    return artifact_map >= np.quantile(artifact_map, 1.0 - fraction)
