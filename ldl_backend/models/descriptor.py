"""The typed description of a model that the engine needs, produced by detection from the weights."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, TypeAlias

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompact, SRVGGNetCompactConfig
from ldl_backend.archs.swinir import SwinIR, SwinIRConfig

if TYPE_CHECKING:
    from torch import nn

ArchConfig: TypeAlias = RRDBNetConfig | SRVGGNetCompactConfig | SwinIRConfig


class Architecture(str, Enum):
    RRDBNET = "RRDBNet"
    SRVGG_COMPACT = "SRVGGNetCompact"
    SWINIR = "SwinIR"


def architecture_of(config: ArchConfig) -> Architecture:
    if isinstance(config, RRDBNetConfig):
        return Architecture.RRDBNET
    if isinstance(config, SRVGGNetCompactConfig):
        return Architecture.SRVGG_COMPACT
    return Architecture.SWINIR


def build_network(config: ArchConfig) -> nn.Module:
    """A freshly initialised network for ``config`` (weights are loaded by the caller)."""
    if isinstance(config, RRDBNetConfig):
        return RRDBNet(config)
    if isinstance(config, SRVGGNetCompactConfig):
        return SRVGGNetCompact(config)
    return SwinIR(config)


@dataclass(frozen=True)
class ModelDescriptor:
    """What the tiling engine and the front ends need to know about a network.

    ``size_multiple``: input height and width must be multiples of it (the engine pads).
    ``receptive_field``: theoretical radius in input pixels (see each architecture's docstring).
    ``supports_fp16``/``supports_bf16``: half precision gives results within a few 1/255 of fp32.
    ``supports_tiling``: tiles with enough overlap reproduce the untiled output (exactly for convolutional nets,
    within a small tolerance for window-attention nets whose padding depends on the tile size).
    """

    architecture: Architecture
    config: ArchConfig
    scale: int
    in_channels: int
    out_channels: int
    size_multiple: int
    receptive_field: int
    supports_fp16: bool
    supports_bf16: bool
    supports_tiling: bool

    @classmethod
    def from_config(cls, config: ArchConfig) -> ModelDescriptor:
        architecture = architecture_of(config)
        return cls(
            architecture=architecture,
            config=config,
            scale=config.scale,
            in_channels=config.in_channels,
            out_channels=config.out_channels,
            size_multiple=config.size_multiple,
            receptive_field=config.receptive_field,
            # SwinIR's attention softmax overflows in fp16 on some inputs; bf16 keeps the range.
            supports_fp16=architecture is not Architecture.SWINIR,
            supports_bf16=True,
            supports_tiling=True,
        )

    def build(self) -> nn.Module:
        return build_network(self.config)

    def summary(self) -> str:
        return f"{self.architecture.value} ×{self.scale}, {self.in_channels}→{self.out_channels} channels"
