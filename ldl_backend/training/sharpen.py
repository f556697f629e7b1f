"""Unsharp masking of the ground truth (GT'), as Real-ESRGAN and LDL's real-world recipe train against.

Issue 9 says only "GT' = unsharp-masked GT"; the parameters are BasicSR's ``USMSharp`` defaults, which
``realesrgan/models/realesrganArtifactsDis_model.py`` in csjliang/LDL uses unchanged: a 51×51 Gaussian (OpenCV's
``getGaussianKernel(51, 0)``, i.e. σ = 8), weight 0.5, threshold 10 (8-bit levels), reflect padding. The sharpened image
replaces the original only where |I − blur(I)| exceeds the threshold, through a blurred (soft) mask:

    out = m·clip(I + w·(I − B), 0, 1) + (1 − m)·I,  B = G∗I,  m = G∗[|I − B| > t]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class UnsharpMask:
    size: int = 51
    weight: float = 0.5
    threshold: float = 10.0  # in 8-bit levels, compared as BasicSR does: |I − B|·255 > threshold

    def __post_init__(self) -> None:
        if self.size < 3 or self.size % 2 == 0:
            raise ValueError(f"the unsharp-mask kernel must have an odd size of at least 3, not {self.size}")
        if not math.isfinite(self.weight) or not math.isfinite(self.threshold) or self.threshold < 0:
            raise ValueError(f"bad unsharp-mask weight {self.weight} or threshold {self.threshold}")

    @property
    def sigma(self) -> float:
        """OpenCV's σ for a non-positive request: 0.3·((size − 1)/2 − 1) + 0.8."""
        return 0.3 * ((self.size - 1) * 0.5 - 1) + 0.8


REAL_ESRGAN_USM = UnsharpMask()


def gaussian_taps(size: int, sigma: float) -> torch.Tensor:
    """The normalised 1-D Gaussian of ``size`` taps (float64), OpenCV's ``getGaussianKernel`` for size > 7."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    taps = torch.exp(-(offsets**2) / (2 * sigma * sigma))
    return taps / taps.sum()


def _gaussian_blur(images: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    n, c, h, w = images.shape
    pad = taps.numel() // 2
    flat = F.pad(images.reshape(n * c, 1, h, w), (pad, pad, pad, pad), mode="reflect")
    flat = F.conv2d(flat, taps.view(1, 1, -1, 1))
    return F.conv2d(flat, taps.view(1, 1, 1, -1)).reshape(n, c, h, w)


@torch.no_grad()
def unsharp_mask(images: torch.Tensor, settings: UnsharpMask = REAL_ESRGAN_USM) -> torch.Tensor:
    """GT' of an N×C×H×W float batch in [0, 1], same shape and dtype (computed in float32 or float64).

    The separable Gaussian equals BasicSR's 2-D outer-product kernel. Raises ``ValueError`` for other shapes or
    images not larger than the kernel radius (reflect padding needs more pixels than it pads).
    """
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(f"expected an N×C×H×W float batch, got {tuple(images.shape)} {images.dtype}")
    radius = settings.size // 2
    if min(images.shape[-2:]) <= radius:
        raise ValueError(f"unsharp masking needs images larger than {radius} pixels, got {tuple(images.shape[-2:])}")
    work = images if images.dtype == torch.float64 else images.float()
    taps = gaussian_taps(settings.size, settings.sigma).to(device=work.device, dtype=work.dtype)
    residual = work - _gaussian_blur(work, taps)
    soft_mask = _gaussian_blur((residual.abs() * 255 > settings.threshold).to(work.dtype), taps)
    sharp = (work + settings.weight * residual).clamp(0, 1)
    return (soft_mask * sharp + (1 - soft_mask) * work).to(images.dtype)
