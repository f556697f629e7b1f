"""The ImageNet backbones LPIPS measures with (AlexNet, VGG16), as plain ``torch.nn`` layers.

The layer lists follow torchvision's ``features`` blocks index for index, so torchvision's ``features.N.weight``
keys load unchanged; torchvision itself is not needed. Each backbone also describes its geometry (strides and
receptive fields of the tapped layers), which exact tiling needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Conv:
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0


@dataclass(frozen=True)
class Relu:
    pass


@dataclass(frozen=True)
class MaxPool:
    kernel: int
    stride: int


Layer = Conv | Relu | MaxPool


@dataclass(frozen=True)
class BackboneSpec:
    """A feature extractor: ``layers`` in torchvision's order, and ``taps``, the indices whose outputs LPIPS uses."""

    name: str
    layers: tuple[Layer, ...]
    taps: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.taps or list(self.taps) != sorted(set(self.taps)) or self.taps[-1] >= len(self.layers):
            raise ValueError(f"{self.name}: taps must be increasing layer indices")

    @property
    def channels(self) -> tuple[int, ...]:
        """Channels of each tapped output."""
        out: list[int] = []
        current = 3
        for index, layer in enumerate(self.layers[: self.taps[-1] + 1]):
            if isinstance(layer, Conv):
                current = layer.out_channels
            if index in self.taps:
                out.append(current)
        return tuple(out)

    def geometry(self) -> tuple[tuple[int, int], ...]:
        """(stride, receptive field) in input pixels of each tapped output."""
        out: list[tuple[int, int]] = []
        stride, field = 1, 1
        for index, layer in enumerate(self.layers[: self.taps[-1] + 1]):
            if isinstance(layer, (Conv, MaxPool)):
                field += (layer.kernel - 1) * stride
                stride *= layer.stride
            if index in self.taps:
                out.append((stride, field))
        return tuple(out)

    def feature_sizes(self, size: int) -> tuple[int, ...]:
        """Length along one axis of each tapped output for an input of ``size`` pixels (0 when too small)."""
        out: list[int] = []
        for index, layer in enumerate(self.layers[: self.taps[-1] + 1]):
            if isinstance(layer, Conv):
                size = max(0, (size + 2 * layer.padding - layer.kernel) // layer.stride + 1)
            elif isinstance(layer, MaxPool):
                size = max(0, (size - layer.kernel) // layer.stride + 1)  # torch's default floor mode
            if index in self.taps:
                out.append(size)
        return tuple(out)

    def min_size(self) -> int:
        """The smallest input side for which every tapped output has at least one pixel."""
        size = 1
        while min(self.feature_sizes(size)) < 1:
            size += 1
        return size


class FeatureBackbone(nn.Module):
    """Runs ``spec.layers`` up to the last tap and returns the tapped outputs, shallowest first.

    Input: float (N, 3, H, W), already scaled as the backbone was trained (LPIPS's scaling layer does that).
    """

    def __init__(self, spec: BackboneSpec) -> None:
        super().__init__()
        self.spec = spec
        self.features = nn.Sequential(*(_module(layer) for layer in spec.layers))
        self._taps = frozenset(spec.taps)
        self._last = spec.taps[-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs: list[torch.Tensor] = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self._taps:
                outputs.append(x)
            if index == self._last:
                break
        return outputs


def _module(layer: Layer) -> nn.Module:
    if isinstance(layer, Conv):
        return nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel, layer.stride, layer.padding)
    if isinstance(layer, MaxPool):
        return nn.MaxPool2d(layer.kernel, layer.stride)
    # Not in place: a tapped output must not be overwritten by a later layer.
    return nn.ReLU(inplace=False)


def _vgg_stage(in_channels: int, out_channels: int, convs: int, pool_first: bool) -> list[Layer]:
    layers: list[Layer] = [MaxPool(2, 2)] if pool_first else []
    for index in range(convs):
        layers += [Conv(in_channels if index == 0 else out_channels, out_channels, 3, 1, 1), Relu()]
    return layers


# torchvision's AlexNet ("one weird trick" variant): features 0–12. LPIPS taps the ReLUs after each convolution
# (conv1–conv5: indices 1, 4, 7, 9, 11); the final max-pool (12) is never run.
ALEXNET = BackboneSpec(
    "alexnet",
    (
        Conv(3, 64, 11, 4, 2),
        Relu(),
        MaxPool(3, 2),
        Conv(64, 192, 5, 1, 2),
        Relu(),
        MaxPool(3, 2),
        Conv(192, 384, 3, 1, 1),
        Relu(),
        Conv(384, 256, 3, 1, 1),
        Relu(),
        Conv(256, 256, 3, 1, 1),
        Relu(),
        MaxPool(3, 2),
    ),
    (1, 4, 7, 9, 11),
)

# torchvision's VGG16 (configuration "D", no batch norm): features 0–30. LPIPS taps relu1_2, relu2_2, relu3_3,
# relu4_3 and relu5_3 (indices 3, 8, 15, 22, 29).
VGG16 = BackboneSpec(
    "vgg16",
    (
        *_vgg_stage(3, 64, 2, pool_first=False),
        *_vgg_stage(64, 128, 2, pool_first=True),
        *_vgg_stage(128, 256, 3, pool_first=True),
        *_vgg_stage(256, 512, 3, pool_first=True),
        *_vgg_stage(512, 512, 3, pool_first=True),
        MaxPool(2, 2),
    ),
    (3, 8, 15, 22, 29),
)
