"""The typed description of a model that the engine needs, produced by detection from the weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ldl_backend.models.architectures.registry import spec_for_config
from ldl_backend.models.architectures.spec import ArchConfig, Architecture, ArchitectureSpec

if TYPE_CHECKING:
    from torch import nn

__all__ = ["ArchConfig", "Architecture", "ModelDescriptor", "build_network"]


def build_network(config: ArchConfig) -> nn.Module:
    """A freshly initialised network for ``config`` (weights are loaded by the caller)."""
    return spec_for_config(config).build(config)


@dataclass(frozen=True)
class ModelDescriptor:
    """What the tiling engine and the front ends need to know about a network.

    ``spec``: the architecture's facts (see ``ArchitectureSpec``); ``config``: its hyper-parameters.
    ``size_multiple``: input height and width must be multiples of it (the engine pads).
    ``receptive_field``: theoretical radius in input pixels (see each architecture's docstring).
    ``supports_fp16``/``supports_bf16``: half precision gives results within a few 1/255 of fp32.
    ``supports_tiling``: tiles with enough overlap reproduce the untiled output (exactly for convolutional nets,
    within a small tolerance for window-attention nets whose padding depends on the tile size).
    """

    spec: ArchitectureSpec[Any]
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
    def from_config(cls, config: ArchConfig, spec: ArchitectureSpec[Any] | None = None) -> ModelDescriptor:
        """The descriptor of ``config``; ``spec`` defaults to the built-in spec of the config's type.

        Raises ``ValueError`` when ``config`` is not ``spec``'s config type.
        """
        spec = spec_for_config(config) if spec is None else spec
        if not spec.owns(config):
            raise ValueError(
                f"{type(config).__name__} is not a {spec.architecture} config: pass a {spec.config_type.__name__}"
            )
        return cls(
            spec=spec,
            config=config,
            scale=config.scale,
            in_channels=config.in_channels,
            out_channels=config.out_channels,
            size_multiple=config.size_multiple,
            receptive_field=config.receptive_field,
            supports_fp16=spec.supports_fp16,
            supports_bf16=spec.supports_bf16,
            supports_tiling=spec.supports_tiling,
        )

    @property
    def architecture(self) -> Architecture:
        return self.spec.architecture

    @property
    def tile_context(self) -> int:
        """Input pixels of context a tile keeps beyond its blend zone (see ``ArchitectureSpec``)."""
        return self.spec.tile_context(self.config)

    def activation_bytes_per_pixel(self, element_bytes: int) -> float:
        """Estimated peak activation bytes per input pixel of a tile, ``element_bytes`` per value (4 fp32, 2 half)."""
        return self.spec.activation_bytes_per_pixel(self.config, element_bytes)

    def build(self) -> nn.Module:
        return self.spec.build(self.config)

    def summary(self) -> str:
        return f"{self.architecture} ×{self.scale}, {self.in_channels}→{self.out_channels} channels"
