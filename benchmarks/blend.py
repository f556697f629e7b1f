"""Re-blend time after a mask change, for a 4-megapixel RGB image in uint8, uint16 and float32, with and without alpha.

Run by hand on a quiet machine (other processes on the two cores distort every timing):
    .venv/bin/python benchmarks/blend.py [--size 2048] [--repeats 15]

The target is ≤ 50 ms for a full re-blend (``Blender.blend`` into the previous result's buffer). Also printed: a
fresh output array per blend, ``ImageBlender`` with alpha, the box of one brush stroke (``reblend_region``), a plain
single-threaded numpy formula as the peer, and the mask work that precedes a re-blend (threshold, one stroke).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from ldl_backend.artifacts.blend import Blender, ImageBlender
from ldl_backend.artifacts.masks import EditMode, Stroke, combine_mask, edit_bounds, mask_from_map
from ldl_backend.imageio.image import ImageData


def median_ms(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up: first-touch page faults, torch's thread pool
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def layer(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if dtype == np.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)


def numpy_peer(detail: np.ndarray, reference: np.ndarray) -> Callable[[np.ndarray, np.ndarray], None]:
    """The obvious numpy formula with the same precomputation, for comparison (one core, a pass per operation)."""
    start = reference.astype(np.float32)
    delta = detail.astype(np.float32) - start
    if detail.dtype != np.float32:
        start += np.float32(0.5)
    scratch = np.empty_like(start)

    def run(mask: np.ndarray, out: np.ndarray) -> None:
        np.multiply(delta, mask[..., None], out=scratch)
        np.add(scratch, start, out=scratch)
        np.copyto(out, scratch, casting="unsafe")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048, help="image side in pixels (default 2048: 4 MP)")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    size, repeats = args.size, args.repeats
    print(f"{size}×{size}×3, median of {repeats}; torch threads {torch.get_num_threads()}, load {os.getloadavg()}")

    rng = np.random.default_rng(0)
    artifact_map = rng.random((size, size), dtype=np.float32)
    mask = mask_from_map(artifact_map, 0.5, 0.1)
    stroke = Stroke(((size * 0.4, size * 0.4), (size * 0.45, size * 0.5)), radius=40.0, mode=EditMode.REMOVE)
    stroked = combine_mask(mask, [stroke])
    box = edit_bounds(stroke, size, size)
    print(f"mask_from_map: {median_ms(lambda: mask_from_map(artifact_map, 0.4, 0.1), repeats):6.1f} ms")
    print(
        f"combine_mask, one stroke ({box.width}×{box.height} px box): "
        f"{median_ms(lambda: combine_mask(mask, [stroke]), repeats):6.1f} ms"
    )

    header = f"{'dtype':8} {'alpha':6} {'into buffer':>12} {'fresh array':>12} {'stroke box':>11} {'numpy peer':>11}"
    print(header)
    for dtype in (np.uint8, np.uint16, np.float32):
        detail = layer(rng, (size, size, 3), dtype)
        reference = layer(rng, (size, size, 3), dtype)
        alpha = layer(rng, (size, size), dtype)
        started = time.perf_counter()
        blender = Blender(detail, reference)
        build_ms = 1000 * (time.perf_counter() - started)
        out = blender.blend(mask)
        peer = numpy_peer(detail, reference)
        peer_out = np.empty_like(out)
        row = (
            median_ms(lambda b=blender, o=out: b.blend(stroked, out=o), repeats),
            median_ms(lambda b=blender: b.blend(stroked), repeats),
            median_ms(lambda b=blender, o=out: b.reblend_region(stroked, box, o), repeats),
            median_ms(lambda p=peer, o=peer_out: p(stroked, o), repeats),
        )
        name = np.dtype(dtype).name
        print(f"{name:8} {'no':6} " + " ".join(f"{ms:9.1f} ms" for ms in row) + f"   (build {build_ms:.0f} ms)")
        del blender, peer, peer_out
        images = ImageBlender(ImageData(detail, alpha), ImageData(reference, alpha))
        previous = images.blend(mask)
        row = (
            median_ms(lambda b=images, o=previous: b.blend(stroked, out=o), repeats),
            median_ms(lambda b=images: b.blend(stroked), repeats),
            median_ms(lambda b=images, o=previous: b.reblend_region(stroked, box, o), repeats),
        )
        print(f"{name:8} {'yes':6} " + " ".join(f"{ms:9.1f} ms" for ms in row) + f" {'–':>11}")
        del images, previous


if __name__ == "__main__":
    main()
