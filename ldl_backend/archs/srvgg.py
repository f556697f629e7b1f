"""SRVGGNetCompact: Real-ESRGAN's compact VGG-style generator (``realesr-animevideov3``, ``realesr-general-x4v3``).

State-dict keys match Real-ESRGAN's (``body.N.weight``/``body.N.bias``; activations with parameters, i.e. PReLU,
take the odd indices). The fast preview model of the product.

Input contract: N×C×H×W float in [0, 1]; any H and W (size multiple 1). Output: N×C×(H·scale)×(W·scale): a learned
residual added to the nearest-neighbour upscale of the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import torch
from torch import nn
from torch.nn import functional as F


class Activation(str, Enum):
    PRELU = "prelu"
    RELU = "relu"
    LEAKY_RELU = "leakyrelu"


@dataclass(frozen=True)
class SRVGGNetCompactConfig:
    in_channels: int = 3
    out_channels: int = 3
    num_feat: int = 64
    num_conv: int = 16
    scale: int = 4
    activation: Activation = Activation.PRELU

    def __post_init__(self) -> None:
        if not 1 <= self.scale <= 8:
            raise ValueError(f"SRVGGNetCompact scale must be between 1 and 8, not {self.scale}")
        for name in ("in_channels", "out_channels", "num_feat"):
            if getattr(self, name) < 1:
                raise ValueError(f"SRVGGNetCompact {name} must be at least 1, not {getattr(self, name)}")
        if self.in_channels != self.out_channels:
            raise ValueError(
                "SRVGGNetCompact adds the upscaled input to its output, so in_channels must equal out_channels"
            )
        if self.num_conv < 0:
            raise ValueError(f"SRVGGNetCompact num_conv must be >= 0, not {self.num_conv}")

    @property
    def size_multiple(self) -> int:
        return 1

    @property
    def receptive_field(self) -> int:
        """Exact receptive-field radius in input pixels: one per 3×3 convolution, all at input resolution."""
        return self.num_conv + 2


def _activation(kind: Activation, num_feat: int) -> nn.Module:
    if kind is Activation.PRELU:
        return nn.PReLU(num_parameters=num_feat)
    if kind is Activation.RELU:
        return nn.ReLU(inplace=True)
    return nn.LeakyReLU(negative_slope=0.1, inplace=True)


class SRVGGNetCompact(nn.Module):
    def __init__(self, config: SRVGGNetCompactConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SRVGGNetCompactConfig()
        layers: list[nn.Module] = [
            nn.Conv2d(config.in_channels, config.num_feat, 3, 1, 1),
            _activation(config.activation, config.num_feat),
        ]
        for _ in range(config.num_conv):
            layers += [
                nn.Conv2d(config.num_feat, config.num_feat, 3, 1, 1),
                _activation(config.activation, config.num_feat),
            ]
        layers.append(nn.Conv2d(config.num_feat, config.out_channels * config.scale * config.scale, 3, 1, 1))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(config.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        base = F.interpolate(x, scale_factor=self.config.scale, mode="nearest")
        # Adding into the upscaled input (not out + base) saves one output-sized tensor, which is what
        # dominates this small network's memory at ×4; base keeps the input's precision under autocast.
        return base.add_(self.upsampler(out)) if not torch.is_grad_enabled() else base + self.upsampler(out)
