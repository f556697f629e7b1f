"""What one tile costs: peak memory growth and seconds per input pixel of a single pass, per tile size and precision.
The automatic tile plan's inputs come from here: an architecture's activation bytes per pixel (its spec's
``activation_bytes_per_pixel``) and how the CPU's time per pixel grows with the tile, per precision (its spec's
``cpu_rates``: the µs/px column relative to its first row, measured from small tiles up).

Run by hand on a quiet machine (each size in its own process, so one pass's peak RSS is not hidden by another's):
    .venv/bin/python benchmarks/tile_cost.py [--model realesrgan-x4plus] [--precision bf16] [--sizes 232x232,384x384]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure(model_name: str, precision: str, height: int, width: int, repeats: int) -> dict[str, float]:
    import numpy as np
    import torch

    from ldl_backend.engine.device import ComputeTarget, Precision
    from ldl_backend.engine.memory import activation_bytes_per_pixel
    from ldl_backend.engine.runners import TorchRunner
    from ldl_backend.models.catalog import builtin_catalog
    from ldl_backend.models.store import ModelStore
    from ldl_backend.paths import models_root

    store = ModelStore(models_root(), builtin_catalog())
    store.ensure_installed(model_name)
    model = store.load(model_name)
    target = ComputeTarget(torch.device("cpu"), Precision(precision))
    runner = TorchRunner(model.network, model.descriptor, target)
    runner.run(np.random.rand(1, 3, 32, 32).astype(np.float32))  # kernels and allocator warmed on a small tile
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tile = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
    runner.run(tile)  # the first pass at this size: its peak memory
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        runner.run(tile)
        times.append(time.perf_counter() - started)
    return {
        "bytes_per_pixel": grown / (height * width),
        "estimated_bytes_per_pixel": activation_bytes_per_pixel(model.descriptor, Precision(precision)),
        "microseconds_per_pixel": 1e6 * min(times) / (height * width),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="realesrgan-x4plus")
    parser.add_argument("--precision", default="bf16", choices=["fp32", "bf16"])
    parser.add_argument("--sizes", default="232x232,256x256,384x232,384x384,512x512")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: measure this HxW and print JSON
    args = parser.parse_args()
    if args.one:
        height, width = (int(v) for v in args.one.split("x"))
        print(json.dumps(measure(args.model, args.precision, height, width, args.repeats)))
        return
    print(f"{args.model}, {args.precision}, CPU: one pass per tile size (best of {args.repeats})")
    print(f"{'tile':>9} | {'peak B/px':>9} | {'estimate':>8} | {'µs/px':>6} | rate vs first")
    first = None
    for size in args.sizes.split(","):
        command = [sys.executable, __file__, "--one", size, "--model", args.model, "--precision", args.precision]
        command += ["--repeats", str(args.repeats)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        first = first or row["microseconds_per_pixel"]
        print(
            f"{size:>9} | {row['bytes_per_pixel']:9.0f} | {row['estimated_bytes_per_pixel']:8.0f} | "
            f"{row['microseconds_per_pixel']:6.1f} | {row['microseconds_per_pixel'] / first:.2f}"
        )


if __name__ == "__main__":
    main()
