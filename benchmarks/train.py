"""Speed of LDL's real-world training step (CPU or GPU), and the share of it the artifact map takes.

    python benchmarks/train.py [--patch 64] [--batch 1] [--steps 5] [--precision fp32|bf16|fp16]
                               [--device cpu|cuda|mps] [--threads N]

The step is ``GanStep`` with the full generator (RRDBNet ×4, 23 blocks, 64 features), the U-Net discriminator with
spectral normalisation (64 features) and the VGG19 perceptual loss up to conv5_4 (random weights: the speed is the
same as ImageNet's), on one real photo crop degraded with the second-order model: the realworld preset at a
``patch``-pixel HR crop (the paper trains at 256; CPU runs use small crops). Data loading is not timed (it runs in
worker processes beside the step); one sample's preparation (crop, unsharp mask, degradation) is timed apart.

Reported, as medians over ``steps`` iterations after one warm-up:
- iterations/s and seconds per 1,000 iterations;
- the artifact map: ``artifact_loss`` forward + backward alone on tensors of the step's shapes, and with the
  EMA generator's forward that only the map needs (LDL's other extra cost), each as a share of the step.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import torch
from device_timing import median_seconds
from PIL import Image
from skimage import data as skimage_data

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.engine.device import Precision
from ldl_backend.training.config import REALWORLD
from ldl_backend.training.data import TrainingSamples, find_training_images
from ldl_backend.training.losses import PerceptualLoss, artifact_loss
from ldl_backend.training.networks import build_discriminator
from ldl_backend.training.step import GanStep, TrainingBatch
from ldl_backend.training.vgg_weights import random_vgg19


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patch", type=int, default=64, help="HR crop side (default 64; the paper: 256)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5, help="timed iterations (after one warm-up)")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps")
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    parser.add_argument("--folder", type=Path, help="scratch folder for the photo (default: a temporary one)")
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    torch.manual_seed(0)
    device = torch.device(arguments.device)
    precision = Precision(arguments.precision)

    config = dataclasses.replace(
        REALWORLD, data=dataclasses.replace(REALWORLD.data, patch=arguments.patch, batch=arguments.batch, queue_size=0)
    )
    with tempfile.TemporaryDirectory(prefix="ldl-train-benchmark-") as scratch:
        folder = arguments.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(skimage_data.astronaut()).save(folder / "astronaut.png")
        samples = TrainingSamples(find_training_images(folder, config.data.source), config.data, seed=0)
        sample_seconds = median_seconds(lambda: samples[0], arguments.steps, torch.device("cpu"))
        first = [samples[i] for i in range(arguments.batch)]
        lq, gt, sharp = (torch.stack(items).to(device) for items in zip(*first, strict=True))
    batch = TrainingBatch(lq, gt, sharp)

    generator = RRDBNet(RRDBNetConfig()).to(device)  # ×4, 23 blocks, 64 features
    discriminator = build_discriminator(config).to(device)
    perceptual = PerceptualLoss(random_vgg19(config.perceptual.layers), config.perceptual).to(device)
    step = GanStep(config, generator, discriminator, perceptual, precision=precision)
    step_seconds = median_seconds(lambda: step(batch), arguments.steps, device)

    sr = generator(lq).detach()
    with torch.no_grad():
        sr_ema = step.ema.module(lq)

    def artifact_term() -> None:
        live = sr.clone().requires_grad_(True)
        artifact_loss(live, gt, sr_ema, config.artifact_map).backward()

    def ema_forward() -> None:
        # As in the step: under autocast when the step runs in bf16 or fp16.
        dtype = {Precision.BF16: torch.bfloat16, Precision.FP16: torch.float16}.get(precision)
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            step.ema.module(lq)

    map_seconds = median_seconds(artifact_term, arguments.steps * 4, device)
    ema_seconds = median_seconds(ema_forward, arguments.steps, device)

    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {device} ({where}), {arguments.precision}")
    print(
        f"realworld step, RRDBNet 23×64 ×4, U-Net SN D, VGG19 to conv5_4, batch {arguments.batch}, "
        f"HR {arguments.patch}×{arguments.patch} (LR {arguments.patch // 4}×{arguments.patch // 4})"
    )
    print(f"step: {step_seconds:.3f} s = {1 / step_seconds:.2f} it/s; {step_seconds * 1000 / 60:.0f} min per 1k it")
    print(f"one sample prepared (crop, USM, degradation; in a worker): {sample_seconds * 1000:.1f} ms")
    share = map_seconds / step_seconds
    print(f"artifact map + its L1 term, forward + backward: {map_seconds * 1000:.2f} ms = {share:.2%} of the step")
    print(
        f"  with the EMA forward the map needs: {(map_seconds + ema_seconds) * 1000:.1f} ms = "
        f"{(map_seconds + ema_seconds) / step_seconds:.2%} of the step"
    )
    print(f"(target: the map under 2% of the step; numbers: {np.round([step_seconds, map_seconds, ema_seconds], 4)})")


if __name__ == "__main__":
    main()
