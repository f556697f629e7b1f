"""LPIPS v0.1 (Zhang et al., CVPR 2018), the learned perceptual distance, without torchvision.

distance = Σ_layers mean_xy( w_l · (f̂_l(x0) − f̂_l(x1))² ), where f_l are AlexNet or VGG16 ReLU features of the
inputs after LPIPS's scaling layer, f̂ is f divided by its per-position channel norm, and w_l are the published
non-negative 1×1 "linear" layers. Weights come from assets (``ldl models fetch``): the torchvision ImageNet
backbone and the LPIPS v0.1 linear layers; ``load_lpips`` refuses to run without them, it never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import cast

import numpy as np
import torch
from torch import nn

from ldl_backend.metrics.lpips_networks import ALEXNET, VGG16, BackboneSpec, FeatureBackbone
from ldl_backend.metrics.lpips_tiling import tile_spans


class LpipsVariant(str, Enum):
    ALEX = "alex"
    VGG = "vgg"

    @property
    def backbone(self) -> BackboneSpec:
        return ALEXNET if self is LpipsVariant.ALEX else VGG16

    @property
    def default_tile(self) -> int:
        """Owned tile side for ``lpips_distance``. VGG's first maps are full resolution with 64 channels (a 512 tile,
        read as a 928² crop, peaks near 1.1 GB); AlexNet's first layer has stride 4, so a 2048 tile costs about the
        same."""
        return 2048 if self is LpipsVariant.ALEX else 512


@dataclass(frozen=True)
class LpipsConfig:
    """LPIPS hyper-parameters. ``shift``/``scale`` are v0.1's scaling layer (ImageNet statistics expressed for
    inputs in [-1, 1]); ``eps`` guards the channel normalisation, as in the reference implementation.
    ``backbone`` replaces the variant's network (e.g. a narrow copy with the same geometry, for fast tests)."""

    variant: LpipsVariant
    shift: tuple[float, float, float] = (-0.030, -0.088, -0.188)
    scale: tuple[float, float, float] = (0.458, 0.448, 0.450)
    eps: float = 1e-10
    backbone: BackboneSpec | None = None

    @property
    def spec(self) -> BackboneSpec:
        return self.backbone or self.variant.backbone

    def __post_init__(self) -> None:
        if min(self.scale) <= 0 or self.eps <= 0:
            raise ValueError("LpipsConfig: scale and eps must be positive")


class LinearLayer(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        # Index 0 held a Dropout while LPIPS was trained (identity at inference); keeping the slot keeps the
        # published key names ("linN.model.1.weight") loadable unchanged.
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False))

    @property
    def weight(self) -> torch.Tensor:
        """(1, C, 1, 1): the weight of each channel's squared difference."""
        return cast(nn.Conv2d, self.model[1]).weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class LinearLayers(nn.Module):
    """The per-layer 1×1 convolutions ``lin0``…``linN`` of the LPIPS weights file."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        self.layers: list[LinearLayer] = []
        for index, count in enumerate(channels):
            layer = LinearLayer(count)
            self.add_module(f"lin{index}", layer)
            self.layers.append(layer)


class Lpips(nn.Module):
    """LPIPS network; ``forward(x0, x1)`` takes float (N, 3, H, W) RGB in [0, 1] and returns (N,) distances.

    Build with ``load_lpips`` (``lpips_weights.py``) for real weights; a bare ``Lpips(config)`` has random ones.
    """

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(self, config: LpipsConfig) -> None:
        super().__init__()
        self.config = config
        self.spec = config.spec
        # Not persistent: constants of the method, not weights, so they stay out of every state dict.
        self.register_buffer("shift", torch.tensor(config.shift).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(config.scale).view(1, 3, 1, 1), persistent=False)
        self.backbone = FeatureBackbone(self.spec)
        self.linear = LinearLayers(self.spec.channels)

    def layer_maps(self, x0: torch.Tensor, x1: torch.Tensor) -> list[torch.Tensor]:
        """Per tapped layer, the weighted squared difference map (N, 1, h_l, w_l); the distance averages each
        map over space and sums over layers. Inputs as ``forward``."""
        if x0.shape != x1.shape or x0.dim() != 4 or x0.shape[1] != 3:
            raise ValueError(f"LPIPS needs two (N, 3, H, W) batches of one shape, got {x0.shape} and {x1.shape}")
        count = x0.shape[0]
        # Both inputs go through the backbone as one batch: one pass, same numerics for both.
        scaled = (torch.cat([x0, x1]) * 2 - 1 - self.shift) / self.scale
        maps: list[torch.Tensor] = []
        for features, linear in zip(self.backbone(scaled), self.linear.layers, strict=True):
            unit = features / (features.square().sum(dim=1, keepdim=True).sqrt() + self.config.eps)
            maps.append(linear((unit[:count] - unit[count:]).square()))
        return maps

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        return torch.stack([m.mean(dim=(1, 2, 3)) for m in self.layer_maps(x0, x1)]).sum(dim=0)


def lpips_distance(model: Lpips, a: np.ndarray, b: np.ndarray, *, tile: int | None = None) -> float:
    """LPIPS between two uint8 RGB images of one shape (H, W, 3): 0 for identical images, larger is more different.

    Pixels map from [0, 255] to [0, 1] (``Lpips.forward``'s convention, itself mapped to the reference's [-1, 1]).
    Large images are processed in tiles of ``tile`` pixels (default ``variant.default_tile``, a multiple of the
    backbone's stride of 16), each read with a margin that covers the deepest layer's receptive field and aligned
    to the strides, so every feature is computed exactly as on the whole image: the result equals the untiled
    distance up to float rounding, with memory bounded by the tile (the default tiles peak near 1.1 GB, measured
    on CPU).

    Raises ``ValueError`` for images of different shapes, non-uint8 or non-RGB arrays, images smaller than the
    backbone needs (AlexNet 31 px, VGG16 16 px on each side), or a tile that is not a positive multiple of 16.
    """
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError(
            f"LPIPS needs two uint8 RGB images of one shape (H, W, 3); got {a.dtype} {a.shape} and {b.dtype} {b.shape}"
        )
    spec = model.spec
    height, width = a.shape[:2]
    if min(height, width) < spec.min_size():
        raise ValueError(f"LPIPS-{model.config.variant.value} needs images of at least {spec.min_size()} px a side")
    geometry = spec.geometry()
    align = geometry[-1][0]
    tile = model.config.variant.default_tile if tile is None else tile
    if tile <= 0 or tile % align:
        raise ValueError(f"the LPIPS tile must be a positive multiple of {align}, got {tile}")
    halo = -(-max(field for _, field in geometry) // align) * align
    device = next(model.parameters()).device
    totals = [0.0] * len(geometry)
    counts = [0] * len(geometry)
    with torch.inference_mode():
        for rows in tile_spans(height, tile, halo):
            for cols in tile_spans(width, tile, halo):
                crops = [
                    torch.from_numpy(np.ascontiguousarray(image[rows.crop_slice, cols.crop_slice]))
                    .to(device)
                    .permute(2, 0, 1)
                    .unsqueeze(0)
                    .float()
                    / 255.0
                    for image in (a, b)
                ]
                for layer, (stride, values) in enumerate(
                    zip((g[0] for g in geometry), model.layer_maps(*crops), strict=True)
                ):
                    owned = values[0, 0, rows.owned(stride, values.shape[2]), cols.owned(stride, values.shape[3])]
                    totals[layer] += float(owned.double().sum())
                    counts[layer] += owned.numel()
    return sum(total / count for total, count in zip(totals, counts, strict=True))
