"""Run a network over an image in overlapping tiles, keeping the whole image in host memory.

Each tile is cut with a margin of context on every side, run, and only its centre is kept: with a margin at
least the network's effective receptive field the result equals the untiled one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ldl_backend.engine.device import ComputeTarget
from ldl_backend.models.loading import LoadedModel

TileProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class TileSettings:
    tile: int = 192
    margin: int = 16

    def __post_init__(self) -> None:
        if self.tile < 8:
            raise ValueError(f"tile size must be at least 8 pixels, not {self.tile}")
        if self.margin < 0:
            raise ValueError(f"tile margin must be >= 0, not {self.margin}")


def upscale_array(
    model: LoadedModel,
    image: np.ndarray,
    target: ComputeTarget,
    tiles: TileSettings | None = None,
    progress: TileProgress | None = None,
) -> np.ndarray:
    """Upscale ``image`` (H×W×C float32 in [0, 1], C = the model's channels) to (H·s)×(W·s)×C float32 in [0, 1]."""
    tiles = tiles or TileSettings()
    descriptor = model.descriptor
    height, width, channels = image.shape
    if channels != descriptor.in_channels:
        raise ValueError(f"the model takes {descriptor.in_channels} channels, the image has {channels}")
    scale = descriptor.scale
    network = model.network.to(target.device)
    output = np.empty((height * scale, width * scale, channels), dtype=np.float32)
    starts_y = list(range(0, height, tiles.tile))
    starts_x = list(range(0, width, tiles.tile))
    total = len(starts_y) * len(starts_x)
    done = 0
    for y0 in starts_y:
        for x0 in starts_x:
            y1, x1 = min(y0 + tiles.tile, height), min(x0 + tiles.tile, width)
            cy0, cx0 = max(y0 - tiles.margin, 0), max(x0 - tiles.margin, 0)
            cy1, cx1 = min(y1 + tiles.margin, height), min(x1 + tiles.margin, width)
            result = run_network(model, image[cy0:cy1, cx0:cx1], target, network)
            top, left = (y0 - cy0) * scale, (x0 - cx0) * scale
            output[y0 * scale : y1 * scale, x0 * scale : x1 * scale] = result[
                top : top + (y1 - y0) * scale, left : left + (x1 - x0) * scale
            ]
            done += 1
            if progress is not None:
                progress(done, total)
    return output


def run_network(
    model: LoadedModel, patch: np.ndarray, target: ComputeTarget, network: torch.nn.Module | None = None
) -> np.ndarray:
    """One forward pass on an H×W×C float32 patch, padded (reflect) to the size multiple and cropped back."""
    descriptor = model.descriptor
    network = network or model.network.to(target.device)
    height, width = patch.shape[:2]
    multiple = descriptor.size_multiple
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    tensor = torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1)))[None].to(target.device)
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        tensor = torch.nn.functional.pad(tensor, (0, pad_w, 0, pad_h), mode=mode)
    dtype = target.autocast_dtype
    with torch.inference_mode(), torch.autocast(target.device.type, dtype=dtype, enabled=dtype is not None):
        result = network(tensor)[..., : height * descriptor.scale, : width * descriptor.scale]
        return result.float().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy()
