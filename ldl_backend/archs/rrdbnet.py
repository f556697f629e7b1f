"""RRDBNet: the generator of ESRGAN, Real-ESRGAN and LDL's RRDB models.

State-dict keys match BasicSR's (``conv_first``, ``body.N.rdb1..rdb3.conv1..conv5``, ``conv_body``, ``conv_up1``,
``conv_up2``, ``conv_hr``, ``conv_last``), so released ``.pth`` files load strict.

Input contract: N×C×H×W float in [0, 1] (C = ``in_channels``); H and W multiples of ``size_multiple`` (4 for
scale 1, 2 for scale 2, 1 for scale 4). Output: N×C×(H·scale)×(W·scale), roughly in [0, 1] (not clamped).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import torch
from torch import nn
from torch.jit._trace import is_tracing
from torch.nn import functional as F

from ldl_backend.archs import dense_concat_free
from ldl_backend.archs.subpixel import PhaseKernels, nearest_double_then_conv

# The network always upsamples ×4 after its body; scales 1 and 2 fold space into channels first.
_UNSHUFFLE_FOR_SCALE = {4: 1, 2: 2, 1: 4}
_RESIDUAL_SCALE = 0.2
_SLOPE = 0.2
# Upsampling in strips of this many body rows; the 3×3 convolutions after the ×2 and ×4 upsamplings reach
# 1/2 + 3/4 of a body row, so two rows of halo make every strip exact.
_STRIP_ROWS = 32
_HALO_ROWS = 2


@dataclass(frozen=True)
class RRDBNetConfig:
    in_channels: int = 3
    out_channels: int = 3
    scale: int = 4
    num_feat: int = 64
    num_block: int = 23
    num_grow_ch: int = 32

    def __post_init__(self) -> None:
        if self.scale not in _UNSHUFFLE_FOR_SCALE:
            raise ValueError(f"RRDBNet scale must be 1, 2 or 4, not {self.scale}")
        for name in ("in_channels", "out_channels", "num_feat", "num_block", "num_grow_ch"):
            if getattr(self, name) < 1:
                raise ValueError(f"RRDBNet {name} must be at least 1, not {getattr(self, name)}")

    @property
    def size_multiple(self) -> int:
        return _UNSHUFFLE_FOR_SCALE[self.scale]

    @property
    def receptive_field(self) -> int:
        """Theoretical receptive-field radius in input pixels.

        Every 3×3 convolution adds one pixel of radius at the resolution it runs at: conv_first, 5 per RDB
        (15 per block) and conv_body run at input/unshuffle resolution; the upsampling convolutions add less than
        one input pixel. The effective field is much smaller: in Real-ESRGAN x4plus a one-pixel change of 0.5
        moves outputs by more than 1/255 up to 60 input pixels away (``benchmarks/receptive_field.py``).
        """
        body_convs = 1 + 15 * self.num_block + 1
        return body_convs * self.size_multiple + 1


def _scaled_residual(branch: torch.Tensor, skip: torch.Tensor, inplace: bool) -> torch.Tensor:
    """branch·0.2 + skip; reuses ``branch``'s memory when it is a fresh temporary and autograd is off."""
    if inplace and branch.dtype == torch.promote_types(branch.dtype, skip.dtype):
        return branch.mul_(_RESIDUAL_SCALE).add_(skip)
    return branch * _RESIDUAL_SCALE + skip


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3×3 convolutions; output = 0.2·conv5 + input."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = None if is_tracing() else dense_concat_free.working_dtype(x)
        if dtype is not None:
            return dense_concat_free.dense_block(self, x, dtype)
        # In place where autograd is off: fewer large allocations, measurably faster on CPU.
        inplace = not torch.is_grad_enabled()
        x1 = F.leaky_relu(self.conv1(x), _SLOPE, inplace)
        x2 = F.leaky_relu(self.conv2(torch.cat((x, x1), 1)), _SLOPE, inplace)
        x3 = F.leaky_relu(self.conv3(torch.cat((x, x1, x2), 1)), _SLOPE, inplace)
        x4 = F.leaky_relu(self.conv4(torch.cat((x, x1, x2, x3), 1)), _SLOPE, inplace)
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return _scaled_residual(x5, x, inplace)


class RRDB(nn.Module):
    """Residual-in-residual dense block: three RDBs; output = 0.2·rdb3 + input."""

    def __init__(self, num_feat: int, num_grow_ch: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _scaled_residual(self.rdb3(self.rdb2(self.rdb1(x))), x, not torch.is_grad_enabled())


class RRDBNet(nn.Module):
    def __init__(self, config: RRDBNetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or RRDBNetConfig()
        unshuffle = config.size_multiple
        feat = config.num_feat
        self.conv_first = nn.Conv2d(config.in_channels * unshuffle * unshuffle, feat, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(feat, config.num_grow_ch) for _ in range(config.num_block)))
        self.conv_body = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(feat, feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(feat, config.out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unshuffle = self.config.size_multiple
        feat = F.pixel_unshuffle(x, unshuffle) if unshuffle > 1 else x
        feat = self.conv_first(feat)
        feat = feat + self.conv_body(self.body(feat))
        # Inference: the upsampling convolutions run at the lower resolution with folded kernels (same maths, 4/9
        # of the multiplications). Training and export keep the plain form, and so does MPS, where the strided
        # interleave has not been checked on hardware.
        exporting = is_tracing() or _onnx_exporting()
        folded = None
        if not torch.is_grad_enabled() and not exporting and feat.device.type in ("cpu", "cuda"):
            folded = (PhaseKernels.of(self.conv_up1), PhaseKernels.of(self.conv_up2))
        rows = feat.shape[-2]
        if self.training or exporting or rows <= 2 * _STRIP_ROWS:
            return self._upsample(feat, folded)
        # At 4× the upsampling convolutions' feature maps are 16× the body's; running them in row strips
        # (with enough halo for their 3×3 kernels) gives identical output with a fraction of the memory.
        strips = []
        for top in range(0, rows, _STRIP_ROWS):
            start, end = max(0, top - _HALO_ROWS), min(rows, top + _STRIP_ROWS + _HALO_ROWS)
            high = self._upsample(feat[..., start:end, :], folded)
            strips.append(high[..., (top - start) * 4 : (min(rows, top + _STRIP_ROWS) - start) * 4, :])
        return torch.cat(strips, dim=-2)

    def _upsample(self, feat: torch.Tensor, folded: tuple[PhaseKernels, PhaseKernels] | None) -> torch.Tensor:
        inplace = not torch.is_grad_enabled()
        if folded is not None:
            feat = F.leaky_relu(nearest_double_then_conv(feat, folded[0]), _SLOPE, inplace)
            feat = F.leaky_relu(nearest_double_then_conv(feat, folded[1]), _SLOPE, inplace)
        else:
            feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), _SLOPE, inplace)
            feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), _SLOPE, inplace)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), _SLOPE, inplace))


def _onnx_exporting() -> bool:
    """Whether an ONNX export is running. Asking ``torch.onnx`` imports it (about 40 ms at start-up); an export
    imports it first, so while it is not imported no export is running."""
    onnx = sys.modules.get("torch.onnx")
    return onnx is not None and bool(onnx.is_in_onnx_export())
