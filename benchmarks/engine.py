"""Engine throughput, tiling overhead and peak memory, against named peers on the same machine and input.

Run by hand on a quiet machine (two processes on two cores distort every timing):
    .venv/bin/python benchmarks/engine.py [--threads 2] [--repeats 3] [--whole-sizes 256,384,1024] [--skip-rss]

Whole process: a fresh ``ldl upscale`` with its defaults against a fresh ncnn process in bf16 (read, run, write a
PNG), per input size. In process: output megapixels per second for ``realesrgan-x4plus`` on a 256×256 crop of a
real photo, our engine end to end (read, tile, blend, write) per runner and precision, the ncnn runtime on
Real-ESRGAN's own ncnn files (the weights we convert), and plain untiled PyTorch. Peak RSS is measured in a child
process running ``ldl upscale`` on a 24-megapixel input with the compact model.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from ncnn_upscale import X4PLUS, ncnn_runner  # the sibling peer (benchmarks/ is run as scripts)

from ldl_backend.artifacts.files import upscale_file
from ldl_backend.engine.device import Precision
from ldl_backend.engine.files import FileJob
from ldl_backend.engine.upscale import Backend, EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData, write_image
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up: allocator, oneDNN kernels, ONNX session
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def plain_torch(model: LoadedModel, precision: Precision) -> Callable[[np.ndarray], np.ndarray]:
    network = model.network.to(memory_format=torch.contiguous_format)  # pyright: ignore[reportCallIssue]

    def run(chw: np.ndarray) -> np.ndarray:
        tensor = torch.from_numpy(chw)[None]
        dtype = torch.bfloat16 if precision is Precision.BF16 else None
        if dtype is not None:
            network_cl = network.to(memory_format=torch.channels_last)  # pyright: ignore[reportCallIssue]
            with torch.inference_mode(), torch.autocast("cpu", dtype=dtype):
                return network_cl(tensor.contiguous(memory_format=torch.channels_last)).float().numpy()
        with torch.inference_mode():
            return network(tensor).numpy()

    return run


def throughput(arguments: argparse.Namespace, store: ModelStore, scratch: Path) -> None:
    size = arguments.size
    photo = photo_of_side(size)
    source = scratch / "input.png"
    write_image(source, ImageData(photo), overwrite=True)
    chw = np.ascontiguousarray(photo.transpose(2, 0, 1), dtype=np.float32) / 255
    model = store.load("realesrgan-x4plus")
    output_mp = size * size * 16 / 1e6
    rows: list[tuple[str, float]] = []

    def engine_case(label: str, options: EngineOptions) -> float:
        engine = prepare_engine(model, options, lambda: store.onnx_file("realesrgan-x4plus", model))
        job = FileJob(source, scratch / "out.png", overwrite=True)
        seconds = median_seconds(lambda: upscale_file(job, engine), arguments.repeats)
        plan = engine.describe_plan(size, size).split(", overlap")[0]
        rows.append((f"{label} [{engine.runner.description}, {plan}]", seconds))
        return seconds

    auto = engine_case("engine, defaults", EngineOptions())
    engine_case("engine, torch fp32", EngineOptions(precision=Precision.FP32))
    if not arguments.skip_onnx:
        engine_case("engine, onnxruntime fp32", EngineOptions(backend=Backend.ONNX))
    for bf16 in (False, True):
        run = ncnn_runner(X4PLUS, bf16, arguments.threads)
        rows.append(
            (
                f"ncnn {'bf16' if bf16 else 'fp32'} (network only)",
                median_seconds(lambda r=run: r(chw), arguments.repeats),
            )
        )
    untiled = {}
    for precision in (Precision.FP32, Precision.BF16):
        run = plain_torch(model, precision)
        untiled[precision] = median_seconds(lambda r=run: r(chw), arguments.repeats)
        layout = "channels-last autocast" if precision is Precision.BF16 else "NCHW"
        rows.append((f"plain untiled PyTorch {precision.value} {layout} (network only)", untiled[precision]))
    print(
        f"\nrealesrgan-x4plus, {size}×{size} input → {output_mp:.2f} MP, {arguments.threads} threads, median of "
        f"{arguments.repeats}"
    )
    for label, seconds in rows:
        print(f"  {label:72} {seconds:7.2f} s  {output_mp / seconds:6.3f} MP/s  ({seconds / auto:4.2f}× defaults)")
    defaults_precision = prepare_engine(model, EngineOptions()).target.precision
    print(
        f"  tiling overhead at the default tile (engine end to end / untiled network, "
        f"{defaults_precision.value}): {auto / untiled[defaults_precision]:.3f}"
    )


def tiled_overhead(arguments: argparse.Namespace, store: ModelStore, scratch: Path) -> None:
    """A larger input that the default tile splits: how much the overlap costs."""
    from skimage import data

    size = arguments.large
    photo = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_CUBIC)
    source = scratch / "large.png"
    write_image(source, ImageData(photo), overwrite=True)
    model = store.load("realesrgan-x4plus")
    engine = prepare_engine(model, EngineOptions())
    job = FileJob(source, scratch / "large_out.png", overwrite=True)
    tiled = median_seconds(lambda: upscale_file(job, engine), 1)
    untiled = median_seconds(
        lambda: plain_torch(model, engine.target.precision)(
            np.ascontiguousarray(photo.transpose(2, 0, 1), dtype=np.float32) / 255
        ),
        1,
    )
    print(
        f"\n{size}×{size} input, default plan ({engine.describe_plan(size, size)}): engine {tiled:.1f} s, "
        f"untiled network {untiled:.1f} s → overhead {tiled / untiled:.2f}×"
    )


def photo_of_side(size: int) -> np.ndarray:
    """A size×size RGB photo: a crop of the astronaut where it is large enough, else the photo resized."""
    from skimage import data

    photo = data.astronaut()
    if size <= min(photo.shape[:2]) - 128:
        return np.ascontiguousarray(photo[0:size, 128 : 128 + size])
    return cv2.resize(photo, (size, size), interpolation=cv2.INTER_CUBIC)


def whole_process(arguments: argparse.Namespace, scratch: Path) -> None:
    """What a user waits for: a fresh process that reads a PNG, upscales it and writes a PNG. ``ldl upscale`` with
    its defaults against the ncnn runtime in bf16 (``ncnn_upscale.py``), alternating, median of the repeats."""
    ldl = Path(sys.executable).with_name("ldl")
    peer = Path(__file__).with_name("ncnn_upscale.py")
    print(f"\nwhole process, realesrgan-x4plus, {arguments.threads} threads, median of {arguments.whole_repeats}:")
    for size in (int(side) for side in arguments.whole_sizes.split(",") if side):
        source = scratch / f"whole_{size}.png"
        write_image(source, ImageData(photo_of_side(size)), overwrite=True)
        threads = ["--threads", str(arguments.threads)]
        commands = {
            "ldl upscale": [str(ldl), "upscale", str(source), "-o", str(scratch / "ours.png"), "--overwrite", *threads],
            "ncnn bf16": [sys.executable, str(peer), str(source), str(scratch / "ncnn.png"), "--bf16", *threads],
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(arguments.whole_repeats):
            for label, command in commands.items():
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                times[label].append(time.perf_counter() - started)
        ours, ncnn = (statistics.median(times[label]) for label in commands)
        print(
            f"  {size}×{size}: ldl upscale {ours:6.1f} s, ncnn bf16 {ncnn:6.1f} s → {ncnn / ours:.2f}× ncnn bf16 "
            f"(all: {', '.join(f'{label} ' + ' '.join(f'{t:.1f}' for t in ts) for label, ts in times.items())})"
        )


def peak_rss(arguments: argparse.Namespace, scratch: Path) -> None:
    from skimage import data

    width, height = 6000, 4000
    source = scratch / "24mp.png"
    photo = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
    write_image(source, ImageData(photo), overwrite=True)
    del photo
    output = scratch / "24mp_x4.png"
    # The child reports its own high-water mark (VmHWM): a parent's rusage would also count the pages the child
    # shared with this (large) process between fork and exec.
    child = (
        "import sys\nfrom ldl_backend.cli import main\ncode = main(sys.argv[1:])\n"
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print('VMHWM', int(peak) * 1024, file=sys.stderr)\nsys.exit(code)"
    )
    command = [
        sys.executable,
        "-c",
        child,
        "upscale",
        str(source),
        "-o",
        str(output),
        "--overwrite",
        "-m",
        "realesr-animevideov3",
        "--threads",
        str(arguments.threads),
    ]
    started = time.perf_counter()
    finished = subprocess.run(command, check=True, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    peak = int(finished.stderr.split("VMHWM")[1].split()[0])
    output_bytes = width * height * 16 * 3
    print(
        f"\n24 MP ({width}×{height}) ×4 with realesr-animevideov3: {seconds:.0f} s, peak RSS {peak / 2**20:.0f} MiB "
        f"= output image {output_bytes / 2**20:.0f} MiB + {(peak - output_bytes) / 2**20:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--large", type=int, default=768, help="input side for the tiled-overhead case (0: skip)")
    parser.add_argument("--whole-sizes", default="256,384,1024", help="whole-process input sides ('': skip)")
    parser.add_argument("--whole-repeats", type=int, default=3)
    parser.add_argument("--skip-onnx", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true", help="skip the in-process runner comparison")
    parser.add_argument("--skip-rss", action="store_true")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    store = ModelStore(models_root(), builtin_catalog())
    with tempfile.TemporaryDirectory(prefix="ldl-bench-") as folder:
        scratch = Path(folder)
        whole_process(arguments, scratch)
        if not arguments.skip_throughput:
            throughput(arguments, store, scratch)
        if arguments.large:
            tiled_overhead(arguments, store, scratch)
        if not arguments.skip_rss:
            peak_rss(arguments, scratch)


if __name__ == "__main__":
    main()
