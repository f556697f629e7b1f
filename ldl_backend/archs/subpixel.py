"""Nearest-neighbour ×2 upsampling followed by a 3×3 convolution, computed at the input's resolution.

Output pixel (2i+a, 2j+b) of ``conv3x3(nearest×2(x))`` sees only a 2×2 neighbourhood of ``x``: for row phase
a = 0 the kernel's rows 0 / 1+2 fall on input rows i−1 / i, for a = 1 rows 0+1 / 2 fall on rows i / i+1 (columns
likewise). So one 2×2 convolution with 4× the output channels (one group per phase) over ``x`` padded by one pixel
computes all four phases with 16 taps per input pixel instead of 36, and never materialises the upsampled input.
The phases are then interleaved by a single strided copy. Equal to the direct form up to rounding (the summed
kernel taps are added before the product instead of after).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


def _fold(kernel: torch.Tensor, phase: int, dim: int) -> torch.Tensor:
    """The three taps along ``dim`` folded onto the two input rows (or columns) that ``phase`` reads."""
    first, middle, last = kernel.unbind(dim)
    pair = (first, middle + last) if phase == 0 else (first + middle, last)
    return torch.stack(pair, dim)


@dataclass(frozen=True)
class PhaseKernels:
    """A 3×3 convolution folded into four 2×2 kernels, stacked phase-major as (4·O)×I×2×2, and its bias."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    out_channels: int

    @classmethod
    def of(cls, conv: nn.Conv2d) -> PhaseKernels:
        if conv.kernel_size != (3, 3) or conv.stride != (1, 1) or conv.padding != (1, 1) or conv.groups != 1:
            raise ValueError("phase kernels need a plain 3×3 convolution with stride 1 and padding 1")
        weight = conv.weight
        kernels = [_fold(_fold(weight, a, 2), b, 3) for a in (0, 1) for b in (0, 1)]
        bias = None if conv.bias is None else conv.bias.repeat(4)
        return cls(torch.cat(kernels), bias, conv.out_channels)


def nearest_double_then_conv(x: torch.Tensor, kernels: PhaseKernels) -> torch.Tensor:
    """``conv(F.interpolate(x, scale_factor=2, mode="nearest"))`` for the 3×3 ``conv`` that ``kernels`` folds.

    The result has ``x``'s memory format (channels-last in, channels-last out)."""
    phases = F.conv2d(x, kernels.weight, kernels.bias, padding=1)  # N × 4·C × (H+1) × (W+1)
    n, _, h, w = x.shape
    c = kernels.out_channels
    # Phase (a, b), pixel (i, j), channel k is phases[n, (2a+b)·C + k, i+a, j+b]: one strided view reads all four
    # phases in output order, whatever the layout of ``phases``, and one copy interleaves them.
    s_n, s_c, s_h, s_w = phases.stride()
    interleaved = phases.as_strided(
        (n, h, 2, w, 2, c), (s_n, s_h, s_h + 2 * c * s_c, s_w, s_w + c * s_c, s_c), phases.storage_offset()
    )
    if x.is_contiguous(memory_format=torch.channels_last):
        return interleaved.contiguous().view(n, 2 * h, 2 * w, c).permute(0, 3, 1, 2)
    return interleaved.permute(0, 5, 1, 2, 3, 4).reshape(n, c, 2 * h, 2 * w)
