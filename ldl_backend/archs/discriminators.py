"""The two discriminators of LDL's recipes, with the published state-dict layouts.

- :class:`VGGStyleDiscriminator`: ESRGAN's VGG-style classifier (BasicSR's ``VGGStyleDiscriminator128``, used by
  LDL's synthetic recipe). Keys ``conv0_0``, ``conv0_1``/``bn0_1``, ``conv{1..4}_{0,1}``/``bn{1..4}_{0,1}``,
  ``linear1``, ``linear2``. BasicSR writes one class per input size (128, 192) that differ only in the width of
  ``linear1``; here the size is a parameter (a multiple of 32) and 128 is the published one.
- :class:`UNetDiscriminatorSN`: Real-ESRGAN's U-Net with spectral normalisation and skip connections (LDL's
  real-world recipe), one logit per pixel. Keys ``conv0``…``conv9``; the normalised convolutions hold
  ``weight_orig`` plus the ``weight_u``/``weight_v`` buffers of ``torch.nn.utils.spectral_norm``, as the released
  ``*_netD.pth`` files do.

Input contract: N×C×H×W float images in the generator's output range ([0, 1]). Outputs are logits (no sigmoid).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

_SLOPE = 0.2
# Five stride-2 stages take the VGG-style discriminator's input down by 32 before the classifier.
_VGG_REDUCTION = 32
# Three stride-2 convolutions, undone by three ×2 upsamplings whose outputs are added to the skips.
_UNET_MULTIPLE = 8


class VGGStyleDiscriminator(nn.Module):
    """ESRGAN's discriminator for ``input_size``×``input_size`` images (128 in the published recipe).

    Stage k (0…4) is a 3×3 convolution then a 4×4 stride-2 convolution, each followed by batch norm (except the
    very first convolution) and LeakyReLU(0.2); then two linear layers (→100 → 1). Output: N×1 logits.
    Raises ``ValueError`` for a size that is not a positive multiple of 32 (and, in ``forward``, for an input
    of another size).
    """

    def __init__(self, in_channels: int = 3, num_feat: int = 64, input_size: int = 128) -> None:
        super().__init__()
        if input_size < _VGG_REDUCTION or input_size % _VGG_REDUCTION:
            raise ValueError(f"the VGG-style discriminator needs a multiple of 32 as its input size, not {input_size}")
        if in_channels < 1 or num_feat < 1:
            raise ValueError(f"channels must be positive, got in_channels={in_channels}, num_feat={num_feat}")
        self.input_size = input_size
        widths = (num_feat, num_feat * 2, num_feat * 4, num_feat * 8, num_feat * 8)
        self.conv0_0 = nn.Conv2d(in_channels, num_feat, 3, 1, 1, bias=True)
        self.conv0_1 = nn.Conv2d(num_feat, num_feat, 4, 2, 1, bias=False)
        self.bn0_1 = nn.BatchNorm2d(num_feat, affine=True)
        previous = num_feat
        for stage, width in enumerate(widths[1:], start=1):
            self.add_module(f"conv{stage}_0", nn.Conv2d(previous, width, 3, 1, 1, bias=False))
            self.add_module(f"bn{stage}_0", nn.BatchNorm2d(width, affine=True))
            self.add_module(f"conv{stage}_1", nn.Conv2d(width, width, 4, 2, 1, bias=False))
            self.add_module(f"bn{stage}_1", nn.BatchNorm2d(width, affine=True))
            previous = width
        side = input_size // _VGG_REDUCTION
        self.linear1 = nn.Linear(previous * side * side, 100)
        self.linear2 = nn.Linear(100, 1)
        self._stages = len(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(
                f"this discriminator takes {self.input_size}×{self.input_size} images, got {tuple(x.shape[-2:])}"
            )
        feat = F.leaky_relu(self.conv0_0(x), _SLOPE)
        feat = F.leaky_relu(self.bn0_1(self.conv0_1(feat)), _SLOPE)
        for stage in range(1, self._stages):
            for step in (0, 1):
                conv = getattr(self, f"conv{stage}_{step}")
                norm = getattr(self, f"bn{stage}_{step}")
                feat = F.leaky_relu(norm(conv(feat)), _SLOPE)
        feat = F.leaky_relu(self.linear1(feat.flatten(1)), _SLOPE)
        return self.linear2(feat)


class UNetDiscriminatorSN(nn.Module):
    """Real-ESRGAN's U-Net discriminator: N×C×H×W images → N×1×H×W per-pixel logits.

    conv0 (3×3, no normalisation) → three spectrally normalised 4×4 stride-2 convolutions (×2, ×4, ×8 width) →
    three bilinear ×2 upsamplings, each followed by a normalised 3×3 convolution and, with ``skip_connection``,
    the addition of the encoder feature of the same size → two normalised 3×3 convolutions → conv9 (3×3 to one
    channel). LeakyReLU(0.2) after every convolution but the last. H and W must be multiples of 8 (``ValueError``).
    """

    def __init__(self, in_channels: int = 3, num_feat: int = 64, skip_connection: bool = True) -> None:
        super().__init__()
        if in_channels < 1 or num_feat < 1:
            raise ValueError(f"channels must be positive, got in_channels={in_channels}, num_feat={num_feat}")
        self.skip_connection = skip_connection
        self.conv0 = nn.Conv2d(in_channels, num_feat, 3, 1, 1)
        self.conv1 = spectral_norm(nn.Conv2d(num_feat, num_feat * 2, 4, 2, 1, bias=False))
        self.conv2 = spectral_norm(nn.Conv2d(num_feat * 2, num_feat * 4, 4, 2, 1, bias=False))
        self.conv3 = spectral_norm(nn.Conv2d(num_feat * 4, num_feat * 8, 4, 2, 1, bias=False))
        self.conv4 = spectral_norm(nn.Conv2d(num_feat * 8, num_feat * 4, 3, 1, 1, bias=False))
        self.conv5 = spectral_norm(nn.Conv2d(num_feat * 4, num_feat * 2, 3, 1, 1, bias=False))
        self.conv6 = spectral_norm(nn.Conv2d(num_feat * 2, num_feat, 3, 1, 1, bias=False))
        self.conv7 = spectral_norm(nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=False))
        self.conv8 = spectral_norm(nn.Conv2d(num_feat, num_feat, 3, 1, 1, bias=False))
        self.conv9 = nn.Conv2d(num_feat, 1, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % _UNET_MULTIPLE or x.shape[-1] % _UNET_MULTIPLE:
            raise ValueError(f"the U-Net discriminator needs sides that are multiples of 8, got {tuple(x.shape)}")
        x0 = F.leaky_relu(self.conv0(x), _SLOPE)
        x1 = F.leaky_relu(self.conv1(x0), _SLOPE)
        x2 = F.leaky_relu(self.conv2(x1), _SLOPE)
        x3 = F.leaky_relu(self.conv3(x2), _SLOPE)
        up = x3
        for conv, skip in ((self.conv4, x2), (self.conv5, x1), (self.conv6, x0)):
            up = F.interpolate(up, scale_factor=2, mode="bilinear", align_corners=False)
            up = F.leaky_relu(conv(up), _SLOPE)
            if self.skip_connection:
                up = up + skip
        out = F.leaky_relu(self.conv7(up), _SLOPE)
        out = F.leaky_relu(self.conv8(out), _SLOPE)
        return self.conv9(out)
