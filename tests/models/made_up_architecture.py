"""A made-up architecture for registry tests: one convolution and a pixel shuffle, with keys no shipped
architecture has."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ShuffleConfig:
    in_channels: int = 3
    out_channels: int = 3
    scale: int = 2
    size_multiple: int = 1
    receptive_field: int = 1


class Shuffle(nn.Module):
    def __init__(self, config: ShuffleConfig) -> None:
        super().__init__()
        self.project = nn.Conv2d(config.in_channels, config.out_channels * config.scale**2, 3, 1, 1)
        self.shuffle = nn.PixelShuffle(config.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.project(x))
