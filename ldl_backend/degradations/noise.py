"""Additive Gaussian and Poisson (shot) noise, colour or gray, drawn from a caller's ``torch.Generator``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import torch

# ITU-R 601 luma, as torchvision's rgb_to_grayscale (which Real-ESRGAN uses for gray Poisson noise).
_LUMA = (0.2989, 0.587, 0.114)


class NoiseKind(str, Enum):
    GAUSSIAN = "gaussian"
    POISSON = "poisson"


@dataclass(frozen=True)
class NoiseParams:
    """Noise for one image. ``strength`` is the Gaussian sigma on the 0–255 scale, or the Poisson multiplier;
    gray noise is the same in all three channels (luminance noise), colour noise differs per channel."""

    kind: NoiseKind
    strength: float
    gray: bool


def _quantised(image: torch.Tensor) -> torch.Tensor:
    return torch.clamp((image * 255.0).round(), 0, 255) / 255.0


def _shot_noise(image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Poisson noise of an image seen as photon counts. The count per unit intensity is the number of distinct
    8-bit levels in the image, rounded up to a power of two, as scikit-image and Real-ESRGAN do."""
    image = _quantised(image)
    levels = 2.0 ** math.ceil(math.log2(max(1, torch.unique(image).numel())))
    return torch.poisson(image * levels, generator=generator) / levels - image


def add_noise(images: torch.Tensor, noises: Sequence[NoiseParams], generator: torch.Generator) -> torch.Tensor:
    """Add each image's noise to an N×3×H×W float batch and clamp to [0, 1]; returns a new tensor.

    Random numbers come from ``generator`` only (on its device), image by image in batch order, so a seeded
    generator gives the same noise every time.
    """
    n, c, h, w = images.shape
    if len(noises) != n:
        raise ValueError(f"{len(noises)} noise settings for a batch of {n}")
    out = torch.empty_like(images)
    for i, noise in enumerate(noises):
        # Noise is drawn on the generator's device, then moved to the image's.
        image = images[i].to(generator.device)
        if noise.kind is NoiseKind.GAUSSIAN:
            shape = (1, h, w) if noise.gray else (c, h, w)
            draw = torch.randn(shape, generator=generator, dtype=image.dtype, device=generator.device)
            draw = draw * (noise.strength / 255.0)
        else:
            if noise.gray:
                luma = torch.tensor(_LUMA, dtype=image.dtype, device=generator.device).view(3, 1, 1)
                source = (image * luma).sum(dim=0, keepdim=True)
            else:
                source = image
            draw = _shot_noise(source, generator) * noise.strength
        out[i] = torch.clamp(image + draw, 0.0, 1.0).to(images.device)
    return out
