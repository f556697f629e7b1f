"""``ldl batch`` throughput: images per second in process, on Ray with one worker and with two (the machine's CPUs
split between them), for small and for large images; the Ray path's cost per image over the in-process path; and,
when a CUDA GPU is present, one GPU worker against ``ldl upscale`` on the same files.

Throughput is the steady state, read from the manifest's per-item timings: the items finished after every worker
finished its first, over the time from then to the last. A fresh worker's first item pays for Ray's start-up, the
model's preparation and oneDNN's kernels for each new shape: once per worker, whatever the run's length, so it is
printed apart ("start-up": the whole run's time less the steady-state time of its items).

Run by hand on a quiet machine (uses skimage's astronaut, from the dev extra):
    .venv/bin/python benchmarks/batch.py [--model realesr-animevideov3] [--small 32 --small-count 48]
        [--large 256 --large-count 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
import torch
from PIL import Image
from skimage import data

from ldl_backend.batch.driver import BatchRequest, run_batch
from ldl_backend.batch.manifest import Manifest
from ldl_backend.batch.recipe import BatchRecipe
from ldl_backend.cli import main as ldl
from ldl_backend.engine.upscale import EngineOptions
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


@dataclass(frozen=True)
class Pool:
    label: str
    ray: str | None  # None: in process
    workers: int | None = None
    threads: int | None = None
    gpus_per_worker: float | None = None


@dataclass(frozen=True)
class Timing:
    per_second: float  # images per second in the steady state
    total: float  # seconds of the whole run_batch call (start-up included)


def make_images(folder: Path, side: int, count: int) -> Path:
    """``count`` different ``side``² crops of the astronaut photo, as PNG files in ``folder``."""
    photo = data.astronaut()
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for index in range(count):
        top, left = (int(v) for v in rng.integers(0, photo.shape[0] - side, 2))
        Image.fromarray(photo[top : top + side, left : left + side]).save(folder / f"{index:04}.png")
    return folder


def timed(recipe: BatchRecipe, pool: Pool, images: Path, output: Path) -> Timing:
    request = BatchRequest(
        images,
        output,
        "_x4",
        ray=pool.ray,
        workers=pool.workers,
        threads=pool.threads,
        gpus_per_worker=pool.gpus_per_worker,
        show_progress=False,
    )
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        summary = run_batch(request, recipe)
    total = time.perf_counter() - started
    if summary.failed or summary.done != summary.total:
        raise SystemExit(f"{pool.label}: {summary}")
    return Timing(steady_rate(output), total)


def median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.per_second for t in timings), statistics.median(t.total for t in timings))


def steady_rate(output: Path) -> float:
    """Images per second once every worker has finished its first image (from the manifest's timings)."""
    with Manifest(output) as manifest:
        items = list(manifest.items().values())
    finishes: dict[str, list[float]] = {}
    for record in items:
        finishes.setdefault(record.worker or "", []).append((record.started or 0.0) + (record.seconds or 0.0))
    warm = max(min(times) for times in finishes.values())
    last = max(max(times) for times in finishes.values())
    after = sum(finish > warm for times in finishes.values() for finish in times)
    if after == 0 or last <= warm:
        raise SystemExit(f"too few images in {output} for a steady state: add more")
    return after / (last - warm)


def upscale_command_rate(model: str, images: Path, scratch: Path, device: str, repeats: int) -> float:
    """Images per second of ``ldl upscale FOLDER`` (the whole command: model preparation included)."""
    rates = []
    count = len(list(images.iterdir()))
    for repeat in range(repeats):
        started = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            code = ldl(
                ["upscale", str(images), "-o", str(scratch / f"upscale-{repeat}"), "-m", model, "--device", device]
            )
        if code != 0:
            raise SystemExit(f"ldl upscale failed with {code}")
        rates.append(count / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="realesr-animevideov3", help="the compact model by default")
    parser.add_argument("--small", type=int, default=32)
    parser.add_argument("--small-count", type=int, default=48)
    parser.add_argument("--large", type=int, default=256)
    parser.add_argument("--large-count", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    gpus = torch.cuda.device_count()
    model = ModelStore(models_root(), builtin_catalog()).load(args.model)
    # --device cpu for the CPU rows even on a GPU machine; the GPU rows below ask for CUDA.
    cpu_recipe = BatchRecipe(model, EngineOptions(device="cpu"))
    ray.init(address="local", num_cpus=cpus, num_gpus=gpus, include_dashboard=False, logging_level=logging.WARNING)
    half = max(1, cpus // 2)
    pools = [
        Pool("in process, 1 thread", None, None, 1),
        Pool("Ray, 1 worker × 1 thread", "local", 1, 1, 0),
        Pool(f"Ray, 2 workers × {half} thread(s)", "local", 2, half, 0),
        Pool(f"in process, {cpus} threads", None, None, cpus),
        Pool(f"Ray, 1 worker × {cpus} threads", "local", 1, cpus, 0),
    ]
    with tempfile.TemporaryDirectory(prefix="ldl-batch-bench-") as temporary:
        scratch = Path(temporary)
        sets = {
            "small": make_images(scratch / f"small-{args.small}", args.small, args.small_count),
            "large": make_images(scratch / f"large-{args.large}", args.large, args.large_count),
        }
        print(
            f"{args.model} ×{model.descriptor.scale} on {cpus} CPUs, {gpus} GPUs; {args.small_count} images of "
            f"{args.small}², {args.large_count} of {args.large}²; median of {args.repeats} interleaved runs; "
            f"load average before: {os.getloadavg()[0]:.2f}"
        )
        runs: dict[tuple[str, str], list[Timing]] = {}
        # Interleaved (every pool and size once per repeat): a neighbour's load then weighs on all rows alike.
        for repeat in range(args.repeats):
            for pool in pools:
                for name, images in sets.items():
                    output = scratch / f"out-{repeat}-{pools.index(pool)}-{name}"
                    runs.setdefault((pool.label, name), []).append(timed(cpu_recipe, pool, images, output))
        timings = {key: median(values) for key, values in runs.items()}
        print(f"{'pool':32s} | {'small img/s':>11} | {'ms/img':>7} | {'large img/s':>11} | {'ms/img':>7} | start-up s")
        for pool in pools:
            on_small, on_large = timings[(pool.label, "small")], timings[(pool.label, "large")]
            startup = on_small.total - args.small_count / on_small.per_second
            print(
                f"{pool.label:32s} | {on_small.per_second:11.2f} | {1000 / on_small.per_second:7.1f} | "
                f"{on_large.per_second:11.3f} | {1000 / on_large.per_second:7.0f} | {startup:.1f}"
            )
        for name in sets:
            local, one, two = (timings[(pool.label, name)].per_second for pool in pools[:3])
            print(
                f"{name}: Ray's cost per image over in process (1 thread each) {1000 / one - 1000 / local:+.1f} ms; "
                f"2 workers / 1 worker {two / one:.2f}×"
            )
        if gpus:
            gpu_recipe = BatchRecipe(model, EngineOptions(device="cuda"))
            gpu_pool = Pool("Ray, 1 GPU worker", "local", 1, None, 1.0)
            large = sets["large"]
            worker = median([timed(gpu_recipe, gpu_pool, large, scratch / f"gpu-{r}") for r in range(args.repeats)])
            command = upscale_command_rate(args.model, large, scratch, "cuda", args.repeats)
            print(
                f"GPU, {args.large}²: 1 Ray GPU worker {worker.per_second:.2f} img/s (whole run "
                f"{args.large_count / worker.total:.2f}); ldl upscale {command:.2f} img/s (whole command)"
            )
        else:
            print("no CUDA GPU here: the GPU comparison (1 Ray GPU worker against ldl upscale) did not run")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
