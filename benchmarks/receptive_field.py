"""Measure each packaged model's effective receptive field: how far a one-pixel change travels.

A pixel in the middle of a real photo crop is raised by ``--delta``; the script reports the largest distance
(in input pixels, Chebyshev) at which any output value moves by more than 1/255, and by more than 1/1024.
The tiling engine sizes its overlap from this. Run: ``.venv/bin/python benchmarks/receptive_field.py``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def influence_radius(network: torch.nn.Module, image: torch.Tensor, scale: int, delta: float, threshold: float) -> int:
    centre = image.shape[-1] // 2
    bumped = image.clone()
    bumped[..., centre, centre] += delta
    with torch.inference_mode():
        change = (network(bumped) - network(image)).abs().amax(dim=(0, 1)).numpy()
    rows, cols = np.nonzero(change > threshold)
    if rows.size == 0:
        return 0
    distance = np.maximum(np.abs(rows // scale - centre), np.abs(cols // scale - centre))
    return int(distance.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=96, help="crop size in input pixels")
    parser.add_argument("--delta", type=float, default=0.5)
    parser.add_argument(
        "--models", nargs="*", default=["realesr-animevideov3", "realesrgan-x4plus-anime", "realesrgan-x4plus"]
    )
    parser.add_argument("--fresh", action="store_true", help="convert into a temporary folder")
    arguments = parser.parse_args()
    from skimage import data

    photo = data.astronaut()
    top, left = 40, 180
    crop = photo[top : top + arguments.size, left : left + arguments.size].astype(np.float32) / 255.0
    image = torch.from_numpy(crop.transpose(2, 0, 1).copy())[None]
    root = Path(tempfile.mkdtemp()) if arguments.fresh else models_root()
    store = ModelStore(root, builtin_catalog())
    torch.set_num_threads(2)
    print(f"{'model':26} {'theoretical':>11} {'>1/255':>7} {'>1/1024':>8}  (input px, {arguments.size}² crop)")
    for name in arguments.models:
        model = store.load(name)
        scale = model.descriptor.scale
        coarse = influence_radius(model.network, image, scale, arguments.delta, 1 / 255)
        fine = influence_radius(model.network, image, scale, arguments.delta, 1 / 1024)
        print(f"{name:26} {model.descriptor.receptive_field:>11} {coarse:>7} {fine:>8}")


if __name__ == "__main__":
    main()
