"""What ``ldl eval`` compares: catalog models through the engine, and the bicubic baseline every table has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ldl_backend.degradations.imresize import imresize
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.upscale import PreparedEngine
from ldl_backend.evaluation.pixels import float_to_uint8
from ldl_backend.imageio import ImageData

BICUBIC = "bicubic"


class Upscaler(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def upscale(self, low: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 → (H·s)×(W·s)×3 uint8."""
        ...


@dataclass(frozen=True)
class BicubicUpscaler:
    """MATLAB-style bicubic upsampling: the baseline row of every super-resolution table."""

    scale: int
    name: str = BICUBIC
    description: str = "MATLAB-style bicubic"

    def upscale(self, low: np.ndarray) -> np.ndarray:
        return float_to_uint8(imresize(low.astype(np.float64) / 255.0, float(self.scale)))


@dataclass(frozen=True)
class ModelUpscaler:
    """A generator run by the tiled engine, output rounded to 8 bits as a saved PNG would be."""

    name: str
    engine: PreparedEngine
    description: str

    def upscale(self, low: np.ndarray) -> np.ndarray:
        result = upscale_image(ImageData(low), self.engine.runner, self.engine.settings)
        return result.colour
