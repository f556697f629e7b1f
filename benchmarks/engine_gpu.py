"""The engine on a GPU: throughput, memory and accuracy of ``realesrgan-x4plus`` per precision.

Run by hand on a machine with CUDA (or MPS):
    python benchmarks/engine_gpu.py [--device cuda] [--size 1024] [--repeats 3]

For a ``size``×``size`` crop of a real photo (scikit-image's astronaut, resized): our engine end to end (read,
tile, blend, write a PNG) with the automatic tile for fp32, fp16 and bf16; the plain untiled network in the same
precision; the GPU's peak allocated memory; and each precision's difference from fp32 in 8-bit levels.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from device_timing import median_seconds

from ldl_backend.artifacts.files import upscale_file
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.files import FileJob
from ldl_backend.engine.upscale import EngineOptions, prepare_engine, run_untiled
from ldl_backend.imageio import ImageData, read_image, write_image
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    from skimage import data

    device = torch.device(arguments.device)
    size = arguments.size
    photo = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_CUBIC)
    store = ModelStore(models_root(), builtin_catalog())
    model = store.load("realesrgan-x4plus")
    output_mp = size * size * 16 / 1e6
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    print(f"realesrgan-x4plus, {size}×{size} → {output_mp:.1f} MP on {name}, torch {torch.__version__}")
    precisions = [Precision.FP32, Precision.BF16] if device.type == "cpu" else list(Precision)
    outputs: dict[Precision, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="ldl-gpu-bench-") as folder:
        source = Path(folder) / "input.png"
        write_image(source, ImageData(photo), overwrite=True)
        for precision in precisions:
            engine = prepare_engine(model, EngineOptions(device=arguments.device, precision=precision))
            job = FileJob(source, Path(folder) / f"out_{precision.value}.png", overwrite=True)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            seconds = median_seconds(lambda j=job, e=engine: upscale_file(j, e), arguments.repeats, device)
            peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else float("nan")
            outputs[precision] = read_image(job.destination).colour.astype(np.float32)
            chw = photo.astype(np.float32) / 255
            target = ComputeTarget(device, precision)
            plain = median_seconds(lambda t=target, c=chw: run_untiled(model, c, t), arguments.repeats, device)
            print(
                f"  {precision.value}: engine end to end {seconds:6.3f} s = {output_mp / seconds:6.2f} MP/s "
                f"(tile {engine.settings.tile}, peak GPU {peak:6.0f} MiB); untiled network {plain:6.3f} s "
                f"= {output_mp / plain:6.2f} MP/s"
            )
    for precision in precisions[1:]:
        difference = np.abs(outputs[precision] - outputs[Precision.FP32])
        print(
            f"  {precision.value} vs fp32: mean {difference.mean():.3f}, p99.9 {np.percentile(difference, 99.9):.2f}, "
            f"max {difference.max():.0f} levels"
        )


if __name__ == "__main__":
    main()
