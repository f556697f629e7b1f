"""The automatic tile plan against fixed ``--tile`` sizes: for each input size, the engine's time with its default
plan and with each fixed tile, and the default's ratio to the best of them (the target: within 5 %).

Run by hand on a quiet machine:
    .venv/bin/python benchmarks/tile_plan.py [--model realesrgan-x4plus] [--sizes 128,256,384,512]
        [--tiles 128,192,256,320,384,512] [--repeats 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from skimage import data

from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.upscale import EngineOptions, PreparedEngine, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def seconds(engine: PreparedEngine, image: ImageData, repeats: int) -> float:
    # One untimed run first: oneDNN builds its kernels for each new tile shape, which would count against whichever
    # configuration meets a shape first.
    upscale_image(image, engine.runner, engine.settings)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        upscale_image(image, engine.runner, engine.settings)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--sizes", default="128,256,384,512")
    parser.add_argument("--tiles", default="128,192,256,320,384,512")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    store = ModelStore(models_root(), builtin_catalog())
    model = store.load(args.model)
    default = prepare_engine(model, EngineOptions())
    photo = data.astronaut()
    print(f"{args.model} on {default.runner.description}, median of {args.repeats}")
    print(f"{'input':>9} | {'default plan':52s} | {'default':>8} | {'best fixed':>14} | ratio")
    for size in (int(v) for v in args.sizes.split(",")):
        image = ImageData(np.ascontiguousarray(photo[:size, :size]))
        planned = seconds(default, image, args.repeats)
        fixed: dict[int, float] = {}
        for tile in (int(v) for v in args.tiles.split(",")):
            if tile > size + 2 * default.settings.overlap:
                continue  # the same single tile as the largest one tried
            engine = prepare_engine(model, EngineOptions(tile=tile))
            fixed[tile] = seconds(engine, image, args.repeats)
        best_tile = min(fixed, key=fixed.__getitem__)
        plan = default.describe_plan(size, size).split(", overlap")[0]
        print(
            f"{size:>4}×{size:<4} | {plan:52s} | {planned:7.2f}s | {fixed[best_tile]:7.2f}s ({best_tile:>3}) | "
            f"{planned / fixed[best_tile]:.3f}"
        )


if __name__ == "__main__":
    main()
