"""How much memory a tile needs and how much the device has: the automatic tile size."""

from __future__ import annotations

import math

import torch

from ldl_backend import system_memory
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.tile_planner import TileBudget, TileCost
from ldl_backend.models.descriptor import ModelDescriptor

# Auto tiles stay within these bounds: below 64 the overlap dominates, above 1024 progress becomes coarse and
# a GPU gains nothing more. On the CPU larger tiles may run slower per pixel (``ArchitectureSpec.cpu_fast_tile``).
MIN_AUTO_TILE = 64
MAX_AUTO_TILE = 1024
# On the CPU the activations of one tile come on top of the output image in host memory; this keeps the
# engine's peak within 600 MiB of the output whatever the input size (benchmarks/engine.py: a 24 MP ×4 job with the
# compact model peaked at output + 652 MiB with 224 MiB, whose tiles the planner fills more fully than square ones).
CPU_TILE_BUDGET = 200 << 20
# An image whose whole pass needs at most this share of the available RAM is not split at all: the memory is there,
# and every split costs overlap (a 512² photo with realesrgan-x4plus: 2×1 tiles 26.6 s, whole 23.5 s). Larger images
# are tiled within CPU_TILE_BUDGET, which keeps their overhead bounded.
CPU_WHOLE_IMAGE_SHARE = 0.25
GPU_BUDGET_FRACTION = 0.6
# The fixed cost of one tile, in pixels of work: cutting and converting it, one call into the runtime, and the
# convolutions' borders. On a GPU a call also launches every kernel of the network once.
CPU_PER_TILE_PIXELS = 2_000
GPU_PER_TILE_PIXELS = 30_000


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
    return system_memory.available_memory()


def tile_memory_budget(target: ComputeTarget, free_bytes: int | None = None) -> float:
    """Bytes one tile's activations may take: a share of a GPU's free memory; on the CPU a fixed budget (the
    output image lives in the same memory), less where the machine has little free."""
    free = available_memory(target) if free_bytes is None else free_bytes
    return free * GPU_BUDGET_FRACTION if target.device.type != "cpu" else min(CPU_TILE_BUDGET, free // 4)


def automatic_budget(descriptor: ModelDescriptor, target: ComputeTarget, free_bytes: int | None = None) -> TileBudget:
    """What the automatic tile plan must respect on ``target``, and what a tile costs there."""
    per_pixel = activation_bytes_per_pixel(descriptor, target.precision)
    free = available_memory(target) if free_bytes is None else free_bytes
    max_pixels = max(MIN_AUTO_TILE**2, int(tile_memory_budget(target, free) / per_pixel))
    whole_pixels = whole_image_pixels(descriptor, target, free)
    if target.device.type == "cpu":
        fast = descriptor.spec.cpu_fast_tile
        cost = TileCost(
            fast_area=None if fast is None else fast * fast,
            slowdown=descriptor.spec.cpu_slowdown,
            per_tile=CPU_PER_TILE_PIXELS,
        )
    else:
        cost = TileCost(per_tile=GPU_PER_TILE_PIXELS)
    return TileBudget(max_pixels=max_pixels, max_side=MAX_AUTO_TILE, cost=cost, whole_pixels=whole_pixels)


def whole_image_pixels(descriptor: ModelDescriptor, target: ComputeTarget, free_bytes: int) -> int:
    """The largest image (input pixels) that runs untiled: its activations within ``CPU_WHOLE_IMAGE_SHARE`` of the
    free RAM on the CPU, within the tile budget on a GPU."""
    per_pixel = activation_bytes_per_pixel(descriptor, target.precision)
    if target.device.type == "cpu":
        return int(free_bytes * CPU_WHOLE_IMAGE_SHARE / per_pixel)
    return int(tile_memory_budget(target, free_bytes) / per_pixel)


def automatic_tile(descriptor: ModelDescriptor, target: ComputeTarget, free_bytes: int | None = None) -> int:
    """The largest square tile side (a multiple of 32 and of the size multiple) within the automatic budget: the
    side the engine falls back to when the plan's tiles cannot hold the overlap."""
    side = math.isqrt(automatic_budget(descriptor, target, free_bytes).max_pixels)
    step = max(32, descriptor.size_multiple)
    return max(MIN_AUTO_TILE, min(MAX_AUTO_TILE, side // step * step))
