"""How close tiled output is to untiled output, per overlap, on a real photo: chooses the default overlap.

Run: ``.venv/bin/python benchmarks/tiling_accuracy.py [--model realesrgan-x4plus] [--size 192] [--tile 96]``.
Prints mean, 99.9th percentile and max |tiled − untiled| in 8-bit levels for each overlap.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.runners import TorchRunner
from ldl_backend.engine.tiled import TileSettings
from ldl_backend.engine.upscale import DEFAULT_BLEND, run_untiled
from ldl_backend.imageio.image import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--tile", type=int, default=96)
    parser.add_argument("--precision", type=Precision, default=Precision.FP32)
    parser.add_argument("--overlaps", type=int, nargs="*", default=[24, 32, 48, 64, 80])
    parser.add_argument("--fresh", action="store_true")
    arguments = parser.parse_args()
    from skimage import data

    torch.set_num_threads(2)
    root = Path(tempfile.mkdtemp()) if arguments.fresh else models_root()
    model = ModelStore(root, builtin_catalog()).load(arguments.model)
    target = ComputeTarget(torch.device("cpu"), arguments.precision)
    size = arguments.size
    photos = {
        "astronaut": data.astronaut()[60 : 60 + size, 150 : 150 + size],
        "coffee": data.coffee()[100 : 100 + size, 200 : 200 + size],
    }
    for name, photo in photos.items():
        reference = run_untiled(model, photo.astype(np.float32) / 255, target)
        image = ImageData(np.ascontiguousarray(photo))
        runner = TorchRunner(model.network, model.descriptor, target)
        for overlap in arguments.overlaps:
            settings = TileSettings(
                arguments.tile, overlap, min(DEFAULT_BLEND, overlap), model.descriptor.size_multiple
            )
            tiled = upscale_image(image, runner, settings).colour.astype(np.float32)
            difference = np.abs(tiled - np.clip(np.rint(reference * 255), 0, 255))
            print(
                f"{name:10} overlap {overlap:3}: mean {difference.mean():.3f}  p99.9 "
                f"{np.percentile(difference, 99.9):.2f}  max {difference.max():.0f}  (8-bit levels)"
            )


if __name__ == "__main__":
    main()
