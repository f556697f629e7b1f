"""How much memory a tile needs and how much the device has: the automatic tile size."""

from __future__ import annotations

import torch

from ldl_backend import system_memory
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.tile_planner import TileBudget, TileCost
from ldl_backend.models.descriptor import ModelDescriptor

# Auto tiles stay within these bounds: below 64 the overlap dominates, above 1024 progress becomes coarse and
# a GPU gains nothing more. On the CPU larger tiles may run slower per pixel (``ArchitectureSpec.cpu_rates``).
MIN_AUTO_TILE = 64
MAX_AUTO_TILE = 1024
# On the CPU the activations of one tile come on top of the output image in host memory; this keeps the
# engine's peak within 600 MiB of the output whatever the input size (benchmarks/engine.py: a 24 MP ×4 job with the
# compact model peaked at output + 652 MiB with 224 MiB, whose tiles the planner fills more fully than square ones).
CPU_TILE_BUDGET = 200 << 20
# An image whose whole pass needs at most this share of the available RAM may run whole: the memory is there, and
# every split costs overlap (a 512² photo with realesrgan-x4plus: 2×1 tiles 26.6 s, whole 23.5 s). Larger images are
# tiled within CPU_TILE_BUDGET, or within this share for architectures with wide CPU tiles (``cpu_wide_tiles``).
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


def automatic_budget(
    descriptor: ModelDescriptor,
    target: ComputeTarget,
    free_bytes: int | None = None,
    *,
    tile_memory: int | None = None,
) -> TileBudget:
    """What the automatic tile plan must respect on ``target``, and what a tile costs there (``tile_memory``: see
    ``tile_pixels``)."""
    free = available_memory(target) if free_bytes is None else free_bytes
    max_pixels = max(MIN_AUTO_TILE**2, tile_pixels(descriptor, target, free, tile_memory))
    whole_pixels = whole_image_pixels(descriptor, target, free)
    if target.device.type == "cpu":
        rates = descriptor.spec.cpu_rates.by_area(half=target.precision is not Precision.FP32)
        cost = TileCost(rates=rates, per_tile=CPU_PER_TILE_PIXELS)
    else:
        cost = TileCost(per_tile=GPU_PER_TILE_PIXELS)
    return TileBudget(max_pixels=max_pixels, max_side=MAX_AUTO_TILE, cost=cost, whole_pixels=whole_pixels)


def tile_pixels(
    descriptor: ModelDescriptor, target: ComputeTarget, free_bytes: int, tile_memory: int | None = None
) -> int:
    """The most input pixels an automatic tile may hold: ``tile_memory_budget``'s worth of activations, or on the
    CPU the whole-image share of free RAM for architectures whose spec asks for wide tiles, within ``tile_memory``
    bytes where that is given."""
    per_pixel = activation_bytes_per_pixel(descriptor, target.precision)
    budgeted = int(tile_memory_budget(target, free_bytes) / per_pixel)
    if target.device.type != "cpu" or not descriptor.spec.cpu_wide_tiles:
        return budgeted
    wide = whole_image_pixels(descriptor, target, free_bytes)
    if tile_memory is not None:
        wide = min(wide, int(tile_memory / per_pixel))
    return max(budgeted, wide)


def whole_image_pixels(descriptor: ModelDescriptor, target: ComputeTarget, free_bytes: int) -> int:
    """The largest image (input pixels) that runs untiled: its activations within ``CPU_WHOLE_IMAGE_SHARE`` of the
    free RAM on the CPU, within the tile budget on a GPU."""
    per_pixel = activation_bytes_per_pixel(descriptor, target.precision)
    if target.device.type == "cpu":
        return int(free_bytes * CPU_WHOLE_IMAGE_SHARE / per_pixel)
    return int(tile_memory_budget(target, free_bytes) / per_pixel)
