"""How well the inference-time artifact map finds artifacts, what blending by it gains, and what it costs.

    python benchmarks/artifact_map.py [--quick] [--cache DIR]
    python benchmarks/artifact_map.py --training-map [--size 1024] [--batch 1] [--device cpu|cuda]

On crops of the held-back photos (``photo_set.HELD_BACK_PHOTOS``; the predictor never saw them), LR = MATLAB bicubic
×1/4 in 8 bits, detail = realesrgan-x4plus (``--quick``: realesr-animevideov3 on 2 photos, no cache):

- detection: ROC AUC per crop (mean, min) against the top 10% of the training-form map of the detail vs HR, for
  two trivial baselines (local variance of the detail; of the bicubic upscale), LDL's statistic against each
  reference, the TTA standard deviation and the learned estimate per reference source; two oracles that read the
  HR (its local variance; that of the detail the bicubic input lost), and the share of marked pixels where the HR
  is over 4× as textured as the detail output;
- calibration: mean map value (a probability of a 10% event should average 0.1) and the positive rate among
  pixels whose map exceeds 0.5;
- blending: PSNR vs HR of blend = reference + mask·(detail − reference), mask = masks.mask_from_map(map, 0.3, 0.4)
  (a smoothstep from keeping the detail at map 0.1 to the reference at 0.5), against a
  global blend of the same mean weight; "kept" = the share of pixels where the mask keeps the detail untouched;
- cost: seconds of each reference and of the map on one crop, relative to the upscale, through the engine.

``--training-map``: the training-form map (``refined_artifact_map``, box filters) against two unfold formulations
on a size×size batch: LDL's released code (a strided window view) and the im2col form that copies every window.
Time (median of 5 after a full-size pass) and peak memory above the inputs, each in its own process, for three
passes: the map's forward; its forward and backward for a given gradient of the map; LDL's whole artifact term
L1(M·SR, M·GT), forward and backward (the gradient flows through the map into SR).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from photo_set import HELD_BACK_PHOTOS, PhotoCrop, photo_crops, top_fraction_label, transform_outputs
from scipy.stats import rankdata

from ldl_backend.artifacts.estimate import estimate_artifact_map
from ldl_backend.artifacts.masks import mask_from_map
from ldl_backend.artifacts.references import TtaRunner, lanczos_reference
from ldl_backend.degradations.imresize import imresize
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import cache_root, models_root
from ldl_client.options import DEFAULT_REFERENCE, ReferenceSource

SOURCES = ("tta:8", "tta:4", "tta:2", "lanczos")
# The mask ramps from keeping the detail (map <= MASK_FROM, the base rate of a top-10% pixel: no evidence of an
# artifact) to the reference (map >= MASK_FULL: more likely than not among the worst tenth).
MASK_FROM = 0.1
MASK_FULL = 0.5


def auc(score: np.ndarray, label: np.ndarray) -> float:
    ranks = rankdata(score.ravel())
    positive = label.ravel()
    count = int(positive.sum())
    return float((ranks[positive].sum() - count * (count + 1) / 2) / (count * (positive.size - count)))


def local_variance(values: np.ndarray, window: int = 7) -> np.ndarray:
    values = values.astype(np.float64)
    mean = cv2.blur(values, (window, window), borderType=cv2.BORDER_REFLECT_101)
    mean_sq = cv2.blur(values * values, (window, window), borderType=cv2.BORDER_REFLECT_101)
    return np.maximum(mean_sq - mean * mean, 0.0)


def psnr(image: np.ndarray, hr: np.ndarray) -> float:
    return float(-10 * np.log10(np.mean((image.astype(np.float64) - hr) ** 2)))


def reference_for(key: str, outputs: np.ndarray, low_res: np.ndarray) -> np.ndarray:
    if key == "lanczos":
        return lanczos_reference(low_res, outputs.shape[1] // low_res.shape[0])
    return outputs[: int(key.split(":")[1])].mean(axis=0)


def measure(crop: PhotoCrop, outputs: np.ndarray, mask_from: float = MASK_FROM) -> dict[str, float]:
    detail = outputs[0]
    label = top_fraction_label(crop.hr, detail)
    bicubic = np.clip(imresize(crop.low_res, 4.0), 0.0, 1.0)
    row = {
        "AUC trivial: local variance of detail": auc(local_variance(detail.mean(axis=2)), label),
        "AUC trivial: local variance of bicubic": auc(local_variance(bicubic.mean(axis=2)), label),
        "AUC LDL statistic vs bicubic": auc(local_variance(np.abs(detail - bicubic).sum(axis=2)), label),
        "AUC TTA std (8)": auc(outputs.std(axis=0).sum(axis=2), label),
        # Oracles read the ground truth, which no estimate has: how far an image-only estimate could hope to go.
        "AUC oracle: local variance of HR": auc(local_variance(crop.hr.mean(axis=2)), label),
        "AUC oracle: local variance of |HR - bicubic|": auc(
            local_variance(np.abs(crop.hr - bicubic).sum(axis=2)), label
        ),
        # Marked pixels where the ground truth is far more textured than the output: detail the generator dropped,
        # which the output and every reference lack.
        "share of marked px where lv(HR) > 4 lv(detail)": float(
            np.mean(local_variance(crop.hr.mean(axis=2))[label] > 4 * local_variance(detail.mean(axis=2))[label])
        ),
    }
    for key in SOURCES:
        reference = reference_for(key, outputs, crop.low_res)
        row[f"AUC LDL statistic vs {key}"] = auc(local_variance(np.abs(detail - reference).sum(axis=2)), label)
        estimate = estimate_artifact_map(detail, reference, low_res=crop.low_res, source=ReferenceSource.parse(key))
        row[f"AUC learned estimate, {key}"] = auc(estimate, label)
        row[f"mean map, {key}"] = float(estimate.mean())
        flagged = estimate > 0.5
        row[f"P(top10 | map>0.5), {key}"] = float(label[flagged].mean()) if flagged.any() else float("nan")
        mask = mask_from_map(estimate, (mask_from + MASK_FULL) / 2, MASK_FULL - mask_from)
        guided = reference + mask[..., None] * (detail - reference)
        uniform = reference + float(mask.mean()) * (detail - reference)
        row[f"PSNR reference {key}"] = psnr(reference, crop.hr)
        row[f"PSNR global blend {key}"] = psnr(uniform, crop.hr)
        row[f"PSNR map-guided {key}"] = psnr(guided, crop.hr)
        row[f"dB gain map-guided - global, {key}"] = row[f"PSNR map-guided {key}"] - row[f"PSNR global blend {key}"]
        row[f"mean mask {key}"] = float(mask.mean())
        row[f"kept (mask = 1) {key}"] = float((mask >= 0.999).mean())
    row["PSNR detail"] = psnr(detail, crop.hr)
    return row


def costs(crop: PhotoCrop, model_name: str, store: ModelStore, repeats: int) -> list[tuple[str, float]]:
    """Median seconds through the engine (tiles, seams) for the upscale, each reference and the map."""
    engine = prepare_engine(store.load(model_name), EngineOptions())
    image = ImageData(crop.low_res)

    def timed(action: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
        times: list[float] = []
        result = np.empty(0)
        for _ in range(repeats):
            start = time.perf_counter()
            result = action()
            times.append(time.perf_counter() - start)
        return float(np.median(times)), result

    upscale_s, detail = timed(lambda: upscale_image(image, engine.runner, engine.settings).colour)
    rows = [("upscale (detail)", upscale_s)]
    references = {}
    for key in SOURCES:
        if key == "lanczos":
            seconds, references[key] = timed(lambda: lanczos_reference(crop.low_res, engine.runner.scale))
        else:
            # As the product runs it: the detail pass is the identity transform, so a reference of N transforms
            # costs N − 1 more passes (the mean mixes the detail back in, which costs nothing to time).
            runner = TtaRunner(engine.runner, int(key.split(":")[1]), skip_identity=True)
            seconds, references[key] = timed(lambda runner=runner: upscale_image(image, runner, engine.settings).colour)
        rows.append((f"reference {key}", seconds))
    map_s, _ = timed(lambda: estimate_artifact_map(detail, references["tta:8"], low_res=crop.low_res))
    rows.append(("map (learned estimate)", map_s))
    return [(name, seconds / upscale_s) for name, seconds in rows] + [("upscale seconds", upscale_s)]


def summary(rows: list[dict[str, float]], ratios: dict[str, float] | None) -> None:
    """Per reference source: the whole job's cost (detail + reference + map) relative to the plain upscale, the
    learned estimate's mean AUC and the map-guided blend's mean gain over the global blend."""
    print(f"\n{'reference':10s} {'job cost':>9s} {'AUC':>8s} {'gain dB':>8s}")
    for key in SOURCES:
        auc_mean = float(np.nanmean([row[f"AUC learned estimate, {key}"] for row in rows]))
        gain = float(np.nanmean([row[f"dB gain map-guided - global, {key}"] for row in rows]))
        cost = "" if ratios is None else f"{1 + ratios[f'reference {key}'] + ratios['map (learned estimate)']:8.2f}×"
        print(f"{key:10s} {cost:>9s} {auc_mean:8.4f} {gain:8.3f}")


def _unfold_map(hr, sr, window: int = 7):
    """LDL's released code: a strided view of every window (``Tensor.unfold``), reduced without copying in the
    forward pass; autograd's backward materialises window² gradients."""
    import torch
    from torch.nn import functional as F

    residual = (hr - sr).abs().sum(dim=1, keepdim=True)
    pad = window // 2
    windows = F.pad(residual, (pad, pad, pad, pad), mode="reflect").unfold(2, window, 1).unfold(3, window, 1)
    local = torch.var(windows, dim=(-1, -2), unbiased=True)
    return residual.var(dim=(-1, -2, -3), keepdim=True) ** 0.2 * local


def _im2col_map(hr, sr, window: int = 7):
    """The formulation the issue describes: every window unfolded into columns (``F.unfold``), window² copies of
    the residual, 49× its memory for 7×7."""
    from torch.nn import functional as F

    residual = (hr - sr).abs().sum(dim=1, keepdim=True)
    pad = window // 2
    columns = F.unfold(F.pad(residual, (pad, pad, pad, pad), mode="reflect"), window)  # N × window² × H·W
    local = columns.var(dim=1, unbiased=True).view_as(residual)
    return residual.var(dim=(-1, -2, -3), keepdim=True) ** 0.2 * local


def _peak_rss_bytes() -> int:
    with Path("/proc/self/status").open() as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM"))


# What each --training-map row measures: the map's forward pass; its forward and backward passes for a given
# gradient of the map (the map's own cost in training); and LDL's whole artifact term, L1(M·SR, M·GT), forward and
# backward: the product's fused ``artifact_l1`` against the unfold maps inside the released code's L1.
TIMING_REPEATS = 5
PASSES = {
    "forward": "forward only",
    "map-backward": "map forward + backward",
    "loss-backward": "artifact loss forward + backward",
}


def training_map_child(method: str, size: int, which: str, batch: int, device_name: str) -> None:
    """Runs in its own process so that each method's peak memory is its own."""
    import torch
    from torch.nn import functional as F

    from ldl_backend.artifacts.training_map import artifact_l1, refined_artifact_map

    torch.set_num_threads(2)
    device = torch.device(device_name)
    generator = torch.Generator().manual_seed(0)
    backward = which != "forward"
    hr = torch.rand(batch, 3, size, size, generator=generator).to(device)
    sr = (hr + 0.1 * torch.randn(batch, 3, size, size, generator=generator).to(device)).requires_grad_(backward)
    map_grad = torch.rand(batch, 1, size, size, generator=generator).to(device)
    compute = {"box": refined_artifact_map, "unfold": _unfold_map, "im2col": _im2col_map}[method]

    def run(hr: torch.Tensor, sr: torch.Tensor, map_grad: torch.Tensor) -> torch.Tensor:
        # Returns what the methods must agree on: the map, or for the whole term its value.
        if which == "loss-backward":  # the gradient flows through the map into sr, as in LDL's training
            if method == "box":  # the product's fused term
                loss = artifact_l1(hr, sr)
            else:
                result = compute(hr, sr)
                loss = F.l1_loss(result * sr, result * hr)
            loss.backward()
            return loss.detach()
        result = compute(hr, sr)
        if which == "map-backward":
            result.backward(map_grad)
        return result.detach()

    def synchronise() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    small = sr.detach()[..., :64, :64].requires_grad_(backward)
    run(hr[..., :64, :64], small, map_grad[..., :64, :64])  # warm-up: kernels
    synchronise()
    if device.type == "cuda":  # the caching allocator's own count of live tensors
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        result = run(hr, sr, map_grad)
        peak = torch.cuda.max_memory_allocated() - before
    else:
        before = _peak_rss_bytes()
        result = run(hr, sr, map_grad)
        peak = _peak_rss_bytes() - before
    times = []
    for _ in range(TIMING_REPEATS):  # in steady state: the first full-size pass also pays for fresh pages
        sr.grad = None
        synchronise()
        started = time.perf_counter()
        run(hr, sr, map_grad)
        synchronise()
        times.append(time.perf_counter() - started)
    print(float(np.median(times)), peak, float(result.sum()))


def training_map_comparison(size: int, batch: int, device: str) -> None:
    where = "2 threads" if device == "cpu" else device
    print(
        f"training-form map, {batch}×3×{size}×{size}, {where} (peak memory above the inputs, each in its own process)"
    )
    names = {"box": "box filters", "unfold": "unfold view", "im2col": "im2col"}
    for which, title in PASSES.items():
        results = {}
        for method in names:
            command = [sys.executable, __file__, "--training-map-child", method, "--size", str(size), "--pass", which]
            command += ["--batch", str(batch), "--device", device]
            # Memory: every allocation of 64 kB or more gets its own mapping, returned when freed; glibc would
            # otherwise keep freed blocks in its heap, and the RSS high-water mark would count its retention, not
            # live tensors. Time: a second process with the default allocator (fresh mappings cost page faults).
            environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
            memory_run = subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
            _, peak, total = memory_run.stdout.split()
            seconds = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()[0]
            results[method] = (float(seconds), int(peak), float(total))
        print(f"{title}:")
        box_s, box_peak, box_sum = results["box"]
        for method, label in names.items():
            seconds, peak, total = results[method]
            line = f"  {label:12s} {seconds:7.3f} s  {peak / 2**20:8.1f} MiB"
            if method != "box":
                relative = abs(box_sum - total) / abs(total)
                line += f"   box is {seconds / box_s:5.1f}× faster, {peak / max(box_peak, 1):5.1f}× less memory"
                line += f" (results agree to {relative:.1e})"
            print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--training-map", action="store_true", help="box filters vs unfold for the training map")
    parser.add_argument("--training-map-child", choices=["box", "unfold", "im2col"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1024, help="side of the --training-map input")
    parser.add_argument("--batch", type=int, default=1, help="samples of the --training-map input")
    parser.add_argument(
        "--device",
        default="cpu",
        help="--training-map on this device (cpu, cuda; memory on CUDA: the caching allocator's peak of live tensors)",
    )
    parser.add_argument("--pass", dest="which", choices=list(PASSES), default="forward", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="compact model, 2 photos, 1 crop each, no cache")
    parser.add_argument("--cache", type=Path, default=cache_root() / "artifact-map-outputs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mask-from", type=float, default=MASK_FROM)
    parser.add_argument("--no-cost", action="store_true")
    args = parser.parse_args()
    if args.training_map_child:
        training_map_child(args.training_map_child, args.size, args.which, args.batch, args.device)
        return 0
    if args.training_map:
        training_map_comparison(args.size, args.batch, args.device)
        return 0
    model_name = "realesr-animevideov3" if args.quick else "realesrgan-x4plus"
    store = ModelStore(models_root(), builtin_catalog())
    runner = prepare_engine(store.load(model_name), EngineOptions()).runner
    crops = photo_crops(HELD_BACK_PHOTOS[:2], max_crops=1) if args.quick else photo_crops(HELD_BACK_PHOTOS)
    cache = None if args.quick else args.cache / model_name
    print(f"{model_name}: {len(crops)} held-back crops of {', '.join(sorted({c.photo for c in crops}))}")
    rows = [measure(crop, transform_outputs(crop, runner, cache), args.mask_from) for crop in crops]
    print(f"\n{'quantity (mean over crops; min)':52s} {'mean':>8s} {'min':>8s}")
    for key in rows[0]:
        values = np.array([row[key] for row in rows])
        print(f"{key:52s} {np.nanmean(values):8.4f} {np.nanmin(values):8.4f}")
    print(f"\ndefault: learned estimate with the {DEFAULT_REFERENCE} reference")
    if args.no_cost:
        summary(rows, None)
        return 0
    print(
        f"\ncost relative to the upscale ({crops[0].name}, {crops[0].low_res.shape[1]}×{crops[0].low_res.shape[0]} in)"
    )
    measured = costs(crops[0], model_name, store, args.repeats)
    for name, ratio in measured:
        print(f"  {name:28s} {ratio:8.3f}")
    summary(rows, dict(measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
