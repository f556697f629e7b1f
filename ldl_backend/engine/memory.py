"""How much memory a tile needs and how much the device has: the automatic tile size."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompactConfig
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.models.descriptor import ModelDescriptor

# Auto tiles stay within these bounds: below 64 the overlap dominates, above 1024 progress becomes coarse and
# a GPU gains nothing more.
MIN_AUTO_TILE = 64
MAX_AUTO_TILE = 1024
# On the CPU, RRDBNet's and SwinIR's body maps fall out of the cache beyond this: x4plus in bf16 runs at 0.150,
# 0.142 and 0.112 output MP/s at tiles of 256, 384 and 512, and with the 80-pixel overlap 384 wastes the least.
CPU_MAX_AUTO_TILE = 384
# On the CPU the activations of one tile come on top of the output image in host memory; this keeps the
# engine's peak (output + tiles) within a few hundred MiB of the output whatever the input size.
CPU_TILE_BUDGET = 224 << 20
GPU_BUDGET_FRACTION = 0.6


def activation_bytes_per_pixel(descriptor: ModelDescriptor, precision: Precision) -> float:
    """Estimated peak activation bytes per input pixel of a tile (the largest live tensors at once)."""
    element = 4 if precision is Precision.FP32 else 2
    config = descriptor.config
    scale2 = descriptor.scale**2
    if isinstance(config, RRDBNetConfig):
        # The body's dense blocks (the upsampling runs in strips, see RRDBNet.forward), plus the fp32 output.
        # Measured peak for x4plus in bf16: 1.5–1.9 KB per input pixel at tiles of 256–512.
        return 12 * config.num_feat * element + 2 * config.out_channels * scale2 * 4
    if isinstance(config, SRVGGNetCompactConfig):
        return 3 * config.num_feat * element + 3 * config.out_channels * scale2 * 4
    # SwinIR: the MLP hidden state and q, k, v of every token, and the attention of each window.
    hidden = config.embed_dim * (3 + config.mlp_ratio)
    attention = max(config.num_heads) * config.window_size**2
    return (2 * hidden + attention) * element + 3 * config.num_feat * scale2 * element


def available_memory(target: ComputeTarget) -> int:
    """Free bytes on the target: CUDA's free memory, MPS's recommended limit, or the system's available RAM."""
    device = target.device
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "mps":
        return int(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
    return system_available_memory()


def system_available_memory() -> int:
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 << 30  # unknown platform: assume a modest machine


def automatic_tile(descriptor: ModelDescriptor, target: ComputeTarget, free_bytes: int | None = None) -> int:
    """The largest tile side (a multiple of 32 and of the size multiple) whose activations fit the budget."""
    free = available_memory(target) if free_bytes is None else free_bytes
    budget = free * GPU_BUDGET_FRACTION if target.device.type != "cpu" else min(CPU_TILE_BUDGET, free // 4)
    per_pixel = activation_bytes_per_pixel(descriptor, target.precision)
    side = int((budget / per_pixel) ** 0.5)
    step = max(32, descriptor.size_multiple)
    side = side // step * step
    largest = MAX_AUTO_TILE
    if target.device.type == "cpu" and not isinstance(descriptor.config, SRVGGNetCompactConfig):
        largest = CPU_MAX_AUTO_TILE
    return max(MIN_AUTO_TILE, min(largest, side))
