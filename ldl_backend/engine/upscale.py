"""The engine's front door: from a loaded model and user options to a runner and tile settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import torch

from ldl_backend.engine.device import ComputeTarget, Precision, choose_target
from ldl_backend.engine.memory import MAX_AUTO_TILE, automatic_budget
from ldl_backend.engine.pipeline import AlphaMode
from ldl_backend.engine.progress import ProgressTracker
from ldl_backend.engine.runners import OnnxRunner, TileRunner, TorchRunner
from ldl_backend.engine.tiled import TiledUpscaler, TileSettings
from ldl_backend.errors import LdlError
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.loading import LoadedModel
from ldl_client.options import MIN_TILE

# Context each tile keeps beyond its blend zone, in input pixels, and the blend width. Measured on real photos
# with realesrgan-x4plus (benchmarks/tiling_accuracy.py): see default_overlap.
DEFAULT_BLEND = 16


class Backend(str, Enum):
    TORCH = "torch"
    ONNX = "onnx"


@dataclass(frozen=True)
class EngineOptions:
    """What the user may choose; None means automatic."""

    device: str | None = None
    precision: Precision | None = None
    backend: Backend = Backend.TORCH
    tile: int | None = None
    overlap: int | None = None
    blend: int = DEFAULT_BLEND
    alpha_mode: AlphaMode = AlphaMode.RESIZE
    threads: int | None = None
    # The most bytes automatic tiles' activations may take beyond the engine's fixed CPU budget (None: the engine's
    # own share of free RAM): a server keeps its jobs within its job memory budget.
    tile_memory: int | None = None

    def __post_init__(self) -> None:
        if self.tile is not None and self.tile < MIN_TILE:
            raise ValueError(f"tile size must be at least {MIN_TILE} pixels, not {self.tile}")
        if self.overlap is not None and self.overlap < 0:
            raise ValueError(f"overlap must be >= 0, not {self.overlap}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, not {self.threads}")
        if self.tile_memory is not None and self.tile_memory < 1:
            raise ValueError(f"tile_memory must be at least 1 byte, not {self.tile_memory}")


@dataclass(frozen=True)
class PreparedEngine:
    """``work_per_output_pixel``: the network's weights per output pixel (parameters / scale²), a proxy for its
    multiply-adds per output pixel that weighs whole-image steps against its passes (None: unknown)."""

    runner: TileRunner
    settings: TileSettings
    target: ComputeTarget
    work_per_output_pixel: float | None = None

    def describe_plan(self, width: int, height: int) -> str:
        """How an image of this size is tiled: ``2×1 tiles of 464×232 px, computing 1.21× the image, overlap 80``."""
        return TiledUpscaler(self.runner, self.settings, ProgressTracker(0)).describe(height, width)


def default_overlap(descriptor: ModelDescriptor) -> int:
    """Overlap (input pixels, blend zone included) that keeps tiled output close to untiled output: the context
    the architecture needs beyond the blend zone (its spec's ``tile_context``, measured with
    ``benchmarks/tiling_accuracy.py``), plus the default blend width."""
    return descriptor.tile_context + DEFAULT_BLEND


def prepare_engine(
    model: LoadedModel, options: EngineOptions, onnx_file: Callable[[], Path] | None = None
) -> PreparedEngine:
    """Choose device and precision, build the runner and the tile settings. Raises ``LdlError`` with a hint."""
    descriptor = model.descriptor
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    runner: TileRunner
    if options.backend is Backend.ONNX:
        if options.precision not in (None, Precision.FP32):
            raise LdlError("the ONNX backend runs in fp32", "drop --precision or use --backend torch")
        if onnx_file is None:
            raise LdlError("no ONNX file for this model", "export one with `ldl models export-onnx`")
        device = options.device or "cpu"
        target = ComputeTarget(torch.device("cuda" if device == "cuda" else "cpu"), Precision.FP32)
        runner = OnnxRunner(onnx_file(), descriptor.scale, device, options.threads)
    else:
        target = choose_target(descriptor, options.device, options.precision)
        runner = TorchRunner(model.network, descriptor, target)
    overlap = default_overlap(descriptor) if options.overlap is None else options.overlap
    multiple = descriptor.size_multiple
    smallest = overlap + 2 * multiple + 1
    if options.tile is not None and options.tile < smallest:
        raise LdlError(
            f"--tile {options.tile} is too small for this model's {overlap}-pixel tile overlap",
            f"use --tile {2 * overlap} or more (or --tile auto)",
        )
    # Automatic: the cheapest plan within the memory budget (tile_planner), tiles at most MAX_AUTO_TILE a side.
    budget = None if options.tile is not None else automatic_budget(descriptor, target, tile_memory=options.tile_memory)
    settings = TileSettings(
        tile=options.tile if options.tile is not None else max(MAX_AUTO_TILE, smallest),
        overlap=overlap,
        blend=min(options.blend, overlap),
        multiple=multiple,
        fixed=options.tile is not None,
        budget=budget,
    )
    weights = sum(parameter.numel() for parameter in model.network.parameters())
    return PreparedEngine(runner, settings, target, weights / descriptor.scale**2)


def run_untiled(model: LoadedModel, image: np.ndarray, target: ComputeTarget) -> np.ndarray:
    """Reference: one forward pass over a whole H×W×C float32 image (padded to the size multiple, cropped back)."""
    descriptor = model.descriptor
    height, width = image.shape[:2]
    multiple = descriptor.size_multiple
    padded = np.pad(image, ((0, (-height) % multiple), (0, (-width) % multiple), (0, 0)), mode="reflect")
    runner = TorchRunner(model.network, descriptor, target)
    result = runner.run(np.ascontiguousarray(padded.transpose(2, 0, 1))[None])[0].transpose(1, 2, 0)
    return result[: height * descriptor.scale, : width * descriptor.scale]
