"""What ``ldl eval`` compares: catalog models through the engine (optionally their reference and blend layers),
and the bicubic baseline every table has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.degradations.imresize import imresize
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.upscale import PreparedEngine
from ldl_backend.imageio import ImageData
from ldl_backend.imageio.samples import to_uint8

BICUBIC = "bicubic"
LAYERS = ("detail", "reference", "blend")


class Upscaler(Protocol):
    @property
    def outputs(self) -> tuple[str, ...]:
        """The report's row name of each output ``upscale`` returns."""
        ...

    @property
    def description(self) -> str: ...

    def upscale(self, low: np.ndarray) -> tuple[np.ndarray, ...]:
        """H×W×3 uint8 → one (H·s)×(W·s)×3 uint8 image per name in ``outputs``."""
        ...


@dataclass(frozen=True)
class BicubicUpscaler:
    """MATLAB-style bicubic upsampling: the baseline row of every super-resolution table."""

    scale: int
    description: str = "MATLAB-style bicubic"

    @property
    def outputs(self) -> tuple[str, ...]:
        return (BICUBIC,)

    def upscale(self, low: np.ndarray) -> tuple[np.ndarray, ...]:
        return (to_uint8(imresize(low.astype(np.float64) / 255.0, float(self.scale))),)


@dataclass(frozen=True)
class ModelUpscaler:
    """A generator run by the tiled engine, output in 8 bits as a saved PNG would be. With ``layers`` beyond
    ``detail``, the artifact layers are made once per image and each one scored as its own row (``NAME:blend``)."""

    name: str
    engine: PreparedEngine
    description: str
    layers: tuple[str, ...] = ("detail",)
    artifact_options: ArtifactOptions = field(default_factory=ArtifactOptions)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.name if layer == "detail" else f"{self.name}:{layer}" for layer in self.layers)

    def upscale(self, low: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.layers == ("detail",):
            return (upscale_image(ImageData(low), self.engine.runner, self.engine.settings).colour,)
        made = upscale_with_layers(ImageData(low), self.engine, self.artifact_options)
        by_name = {"detail": made.detail, "reference": made.reference, "blend": made.blend}
        return tuple(by_name[layer].colour for layer in self.layers)
