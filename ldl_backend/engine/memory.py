"""How much memory a tile needs and how much the device has: the automatic tile size."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.models.descriptor import ModelDescriptor

# Auto tiles stay within these bounds: below 64 the overlap dominates, above 1024 progress becomes coarse and
# a GPU gains nothing more. On the CPU an architecture may cap them lower (``ArchitectureSpec.cpu_max_tile``).
MIN_AUTO_TILE = 64
MAX_AUTO_TILE = 1024
# On the CPU the activations of one tile come on top of the output image in host memory; this keeps the
# engine's peak (output + tiles) within a few hundred MiB of the output whatever the input size.
CPU_TILE_BUDGET = 224 << 20
GPU_BUDGET_FRACTION = 0.6


def activation_bytes_per_pixel(descriptor: ModelDescriptor, precision: Precision) -> float:
    """Estimated peak activation bytes per input pixel of a tile (the largest live tensors at once)."""
    return descriptor.activation_bytes_per_pixel(4 if precision is Precision.FP32 else 2)


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
    cpu_cap = descriptor.spec.cpu_max_tile
    if target.device.type == "cpu" and cpu_cap is not None:
        largest = min(largest, cpu_cap)
    return max(MIN_AUTO_TILE, min(largest, side))
