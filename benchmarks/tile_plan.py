"""The automatic tile plan against fixed ``--tile`` sizes: for each input size, the engine's time with its default
plan and with each fixed tile, and the default's ratio to the best of them (the target: within 5 %).

A configuration whose plan equals one already timed for that size (a fixed tile at least as large as the image runs
it whole, like the default) reuses that time instead of a second, noisy measurement. Inputs up to 512² are crops of
a real photo; larger ones are that photo resized.

Run by hand on a quiet machine:
    .venv/bin/python benchmarks/tile_plan.py [--model realesrgan-x4plus] [--sizes 128,256,384,512]
        [--tiles 192,256,384,512] [--repeats 1] [--warm-up-to 384]
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2
import numpy as np
from skimage import data

from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.progress import ProgressTracker
from ldl_backend.engine.tiled import TiledUpscaler
from ldl_backend.engine.tiling import TilePlan
from ldl_backend.engine.upscale import EngineOptions, PreparedEngine, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def seconds(engine: PreparedEngine, image: ImageData, repeats: int, warm_up: bool) -> float:
    if warm_up:
        # oneDNN builds its kernels for each new tile shape, which would count against whichever configuration
        # meets a shape first; on large inputs that is a small share of a pass, not worth another pass.
        upscale_image(image, engine.runner, engine.settings)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        upscale_image(image, engine.runner, engine.settings)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def photo_of_side(side: int) -> np.ndarray:
    photo = data.astronaut()
    if side <= photo.shape[0]:
        return np.ascontiguousarray(photo[:side, :side])
    return cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC)


def plan_of(engine: PreparedEngine, side: int) -> TilePlan:
    return TiledUpscaler(engine.runner, engine.settings, ProgressTracker(0)).plan(side, side)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--sizes", default="128,256,384,512")
    parser.add_argument("--tiles", default="192,256,384,512")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--warm-up-to", type=int, default=384, help="an untimed first run for inputs up to this side")
    args = parser.parse_args()
    store = ModelStore(models_root(), builtin_catalog())
    store.ensure_installed(args.model)
    model = store.load(args.model)
    default = prepare_engine(model, EngineOptions())
    fixed_engines = {tile: prepare_engine(model, EngineOptions(tile=tile)) for tile in map(int, args.tiles.split(","))}
    print(f"{args.model} on {default.runner.description}, median of {args.repeats}")
    for side in (int(v) for v in args.sizes.split(",")):
        compare(default, fixed_engines, side, args.repeats, side <= args.warm_up_to)


def compare(
    default: PreparedEngine, fixed_engines: dict[int, PreparedEngine], side: int, repeats: int, warm_up: bool
) -> None:
    """Time the default plan and each fixed tile on a side×side photo (each distinct plan once) and print them."""
    image = ImageData(photo_of_side(side))
    timed: dict[TilePlan, float] = {}
    for engine in (default, *fixed_engines.values()):
        plan = plan_of(engine, side)
        if plan not in timed:
            timed[plan] = seconds(engine, image, repeats, warm_up)
    planned = timed[plan_of(default, side)]
    print(f"{side}×{side}: default {default.describe_plan(side, side)}: {planned:.2f} s")
    fixed = {tile: timed[plan_of(engine, side)] for tile, engine in fixed_engines.items()}
    for tile, engine in fixed_engines.items():
        print(f"    --tile {tile:<4} {engine.describe_plan(side, side)}: {fixed[tile]:.2f} s")
    best_tile = min(fixed, key=fixed.__getitem__)
    print(f"    default / best fixed (--tile {best_tile}): {planned / fixed[best_tile]:.3f}", flush=True)


if __name__ == "__main__":
    main()
