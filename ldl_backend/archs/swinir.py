"""SwinIR: the shifted-window transformer restorer of LDL's SwinIR models and of the official SwinIR zoo.

State-dict keys match the official code's (``conv_first``, ``patch_embed.norm``,
``layers.I.residual_group.blocks.J.{norm1,attn.qkv,attn.proj,attn.relative_position_bias_table,norm2,
mlp.fc1,mlp.fc2}``, ``layers.I.conv`` (``.0/.2/.4`` for 3conv), ``norm``, ``conv_after_body``, then the
upsampler's convs), so released ``.pth`` files load strict once ``strip_derived_buffers`` has dropped the
``relative_position_index`` and ``attn_mask`` buffers, which depend only on the window and the input size.

Input contract: N×C×H×W float in [0, 1] (C = ``in_channels``); any H and W: the network reflect-pads to a
multiple of ``window_size`` (``size_multiple``) and crops back, as the official code does; the engine still
pads tiles to that multiple itself so no work is spent on a second pad. Output: N×C×(H·scale)×(W·scale),
roughly in [0, 1] (not clamped). Receptive field: ``SwinIRConfig.receptive_field`` (~``window_size`` a block).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn
from torch.nn import functional as F

from ldl_backend.archs.swinir_config import SwinIRConfig, Upsampler

__all__ = ["SwinIR", "SwinIRConfig", "Upsampler", "strip_derived_buffers"]

_RGB_MEAN = (0.4488, 0.4371, 0.4040)  # DIV2K mean the official models were trained with
# The buffers derived from the configuration alone (not saved in files) are computed on the CPU, even inside a
# meta-device build: a network built there for loading then holds every tensor once the file's are assigned, and
# need not be built again for real; and on the meta device their integer arithmetic would import torch._dynamo
# (seconds) at the first SwinIR load.
_CONSTANTS = torch.device("cpu")
_MASK_VALUE = -100.0  # the official additive mask value; not -inf, so the trained weights see the same logits
_RECON_SLOPE = 0.2  # LeakyReLU slope of the 3conv blocks and of the nearest+conv upsampler
_DERIVED_SUFFIXES = ("relative_position_index", "attn_mask")


def strip_derived_buffers(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy of ``state_dict`` without the ``relative_position_index`` and ``attn_mask`` buffers.

    The official code saves them, but they depend only on the window and the training size; this module
    recomputes them for the actual input, so an official file loads strict after this.
    """
    return {key: value for key, value in state_dict.items() if not key.endswith(_DERIVED_SUFFIXES)}


def _relative_position_index(window: int) -> torch.Tensor:
    """(window², window²) long: row into the bias table for each (query, key) pair of one window.

    Same formula as the official code, so trained bias tables line up: (Δrow + w−1)·(2w−1) + (Δcol + w−1).
    Computed on the CPU even in a meta-device build (``_CONSTANTS``).
    """
    rows, cols = torch.meshgrid(
        torch.arange(window, device=_CONSTANTS), torch.arange(window, device=_CONSTANTS), indexing="ij"
    )
    rows, cols = rows.flatten(), cols.flatten()
    d_row = rows[:, None] - rows[None, :] + window - 1
    d_col = cols[:, None] - cols[None, :] + window - 1
    return d_row * (2 * window - 1) + d_col


def _partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """B×H×W×C → (B·nW)×(window²)×C, windows in row-major order per image."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def _merge(windows: torch.Tensor, window: int, height: int, width: int) -> torch.Tensor:
    """Inverse of ``_partition``: (B·nW)×(window²)×C → B×H×W×C."""
    c = windows.shape[-1]
    x = windows.view(-1, height // window, width // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, height, width, c)


def _shift_mask(height: int, width: int, window: int, shift: int, device: torch.device) -> torch.Tensor:
    """nW×(window²)×(window²) additive mask for shifted windows.

    After the cyclic shift, the last row and column of windows hold pixels that were far apart in the image;
    pixels are labelled by the band they came from (3 bands per axis) and only same-label pairs attend freely.
    """

    def bands(size: int) -> torch.Tensor:
        index = torch.arange(size, device=device)
        return (index >= size - window).long() + (index >= size - shift).long()

    labels = bands(height)[:, None] * 3 + bands(width)[None, :]
    labels = _partition(labels[None, :, :, None], window).squeeze(-1)  # nW×N
    different = labels[:, :, None] != labels[:, None, :]
    return torch.zeros(different.shape, device=device).masked_fill(different, _MASK_VALUE)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside each window, with a learned bias per relative offset and head."""

    relative_position_index: torch.Tensor

    def __init__(self, dim: int, window: int, num_heads: int, qkv_bias: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, num_heads))
        # Derived from the window alone, so not saved: files need not carry it and cannot contradict it.
        self.register_buffer("relative_position_index", _relative_position_index(window), persistent=False)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x: (B·nW)×N×C; mask: nW×N×N additive or None. Returns (B·nW)×N×C."""
        batch_windows, n, c = x.shape
        qkv = self.qkv(x).reshape(batch_windows, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B·nW)×heads×N×d
        index = self.relative_position_index.view(-1)
        bias = self.relative_position_bias_table[index].view(n, n, -1).permute(2, 0, 1)  # heads×N×N
        if mask is not None:
            # Split the batch from the windows so the per-window mask broadcasts over images.
            num_windows = mask.shape[0]
            q, k, v = (t.reshape(-1, num_windows, *t.shape[1:]) for t in (q, k, v))
            bias = bias.unsqueeze(0) + mask.unsqueeze(1)
        # Default scale 1/sqrt(d) is the official qk scale (qk_scale=None in every released model).
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        out = out.reshape(batch_windows, self.num_heads, n, -1).transpose(1, 2).reshape(batch_windows, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SwinTransformerBlock(nn.Module):
    """LayerNorm → (shifted) window attention → residual; LayerNorm → MLP → residual. Tokens are B×(H·W)×C."""

    def __init__(self, config: SwinIRConfig, num_heads: int, shift: int) -> None:
        super().__init__()
        dim = config.embed_dim
        self.window = config.window_size
        self.shift = shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, self.window, num_heads, config.qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, config.mlp_hidden)

    def forward(self, x: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None) -> torch.Tensor:
        height, width = size
        batch, length, c = x.shape
        y = self.norm1(x).view(batch, height, width, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = self.attn(_partition(y, self.window), mask if self.shift else None)
        y = _merge(y, self.window, height, width)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(batch, length, c)
        return x + self.mlp(self.norm2(x))


class BasicLayer(nn.Module):
    def __init__(self, config: SwinIRConfig, depth: int, num_heads: int) -> None:
        super().__init__()
        # Odd blocks shift by half a window so information crosses window borders.
        self.blocks = nn.ModuleList(
            SwinTransformerBlock(config, num_heads, 0 if j % 2 == 0 else config.shift_size) for j in range(depth)
        )

    def forward(self, x: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, size, mask)
        return x


def _residual_conv(dim: int, kind: str) -> nn.Module:
    if kind == "1conv":
        return nn.Conv2d(dim, dim, 3, 1, 1)
    # 3conv narrows to a quarter of the width to save parameters (the official large real-world model).
    narrow = dim // 4
    return nn.Sequential(
        nn.Conv2d(dim, narrow, 3, 1, 1),
        nn.LeakyReLU(_RECON_SLOPE, inplace=True),
        nn.Conv2d(narrow, narrow, 1, 1, 0),
        nn.LeakyReLU(_RECON_SLOPE, inplace=True),
        nn.Conv2d(narrow, dim, 3, 1, 1),
    )


def _conv_before_upsample(dim: int, feat: int) -> nn.Sequential:
    # nn.LeakyReLU's default slope (0.01), as in the official code the released models were trained with.
    return nn.Sequential(nn.Conv2d(dim, feat, 3, 1, 1), nn.LeakyReLU(inplace=True))


class RSTB(nn.Module):
    """Residual Swin Transformer Block: transformer blocks, then a conv on the image grid, plus the input."""

    def __init__(self, config: SwinIRConfig, depth: int, num_heads: int) -> None:
        super().__init__()
        self.residual_group = BasicLayer(config, depth, num_heads)
        self.conv = _residual_conv(config.embed_dim, config.resi_connection)

    def forward(self, x: torch.Tensor, size: tuple[int, int], mask: torch.Tensor | None) -> torch.Tensor:
        batch, _, c = x.shape
        y = self.residual_group(x, size, mask).transpose(1, 2).reshape(batch, c, *size)
        return self.conv(y).flatten(2).transpose(1, 2) + x


class PatchEmbed(nn.Module):
    """Image B×C×H×W → tokens B×(H·W)×C, with an optional LayerNorm (patch size 1: no pixels are merged)."""

    def __init__(self, dim: int, use_norm: bool) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim) if use_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(2).transpose(1, 2)
        return self.norm(x) if self.norm is not None else x


def _reflect_pad(x: torch.Tensor, pad_h: int, pad_w: int) -> torch.Tensor:
    """Reflect-pad bottom and right as the official code does, in steps when the pad exceeds the image.

    The official single reflect pad fails for images smaller than the pad; repeated reflection is identical
    whenever that one works. A 1-pixel side cannot reflect at all and is replicated instead.
    """
    while pad_h > 0 or pad_w > 0:
        step_h, step_w = min(pad_h, x.shape[-2] - 1), min(pad_w, x.shape[-1] - 1)  # reflect's limit
        if (pad_h and not step_h) or (pad_w and not step_w):
            return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        x = F.pad(x, (0, step_w, 0, step_h), mode="reflect")
        pad_h, pad_w = pad_h - step_h, pad_w - step_w
    return x


def _mean(channels: int) -> torch.Tensor:
    values = torch.tensor(_RGB_MEAN, device=_CONSTANTS) if channels == 3 else torch.zeros(channels, device=_CONSTANTS)
    return values.view(1, channels, 1, 1)


class SwinIR(nn.Module):
    mean_in: torch.Tensor
    mean_out: torch.Tensor

    def __init__(self, config: SwinIRConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SwinIRConfig()
        dim = config.embed_dim
        # Not saved: the official code keeps the mean as a plain attribute, so files never carry it.
        self.register_buffer("mean_in", _mean(config.in_channels), persistent=False)
        self.register_buffer("mean_out", _mean(config.out_channels), persistent=False)
        self.conv_first = nn.Conv2d(config.in_channels, dim, 3, 1, 1)
        self.patch_embed = PatchEmbed(dim, config.patch_norm)
        pos_embed = nn.Parameter(torch.zeros(1, config.img_size**2, dim)) if config.ape else None
        self.absolute_pos_embed = pos_embed
        self.layers = nn.ModuleList(
            RSTB(config, depth, heads) for depth, heads in zip(config.depths, config.num_heads, strict=True)
        )
        self.norm = nn.LayerNorm(dim)
        self.conv_after_body = _residual_conv(dim, config.resi_connection)
        self._build_reconstruction()
        self._init_weights()

    def _build_reconstruction(self) -> None:
        config, dim, feat = self.config, self.config.embed_dim, self.config.num_feat
        out = config.out_channels
        if config.upsampler is Upsampler.PIXELSHUFFLE:
            self.conv_before_upsample = _conv_before_upsample(dim, feat)
            steps: list[nn.Module] = []
            factors = [3] if config.scale == 3 else [2] * int(math.log2(config.scale))
            for factor in factors:
                steps += [nn.Conv2d(feat, factor * factor * feat, 3, 1, 1), nn.PixelShuffle(factor)]
            self.upsample = nn.Sequential(*steps)
            self.conv_last = nn.Conv2d(feat, out, 3, 1, 1)
        elif config.upsampler is Upsampler.PIXELSHUFFLE_DIRECT:
            scale = config.scale
            self.upsample = nn.Sequential(nn.Conv2d(dim, scale * scale * out, 3, 1, 1), nn.PixelShuffle(scale))
        elif config.upsampler is Upsampler.NEAREST_CONV:
            self.conv_before_upsample = _conv_before_upsample(dim, feat)
            self.conv_up1 = nn.Conv2d(feat, feat, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(feat, feat, 3, 1, 1) if config.scale == 4 else None
            self.conv_hr = nn.Conv2d(feat, feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(feat, out, 3, 1, 1)
        else:
            self.conv_last = nn.Conv2d(dim, out, 3, 1, 1)

    def _init_weights(self) -> None:
        # The official initialisation, so training from scratch starts where the paper's runs did.
        for name, param in self.named_parameters():
            if name.endswith(("relative_position_bias_table", "absolute_pos_embed")):
                nn.init.trunc_normal_(param, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """N×embed_dim×H×W (H, W multiples of the window) → same shape, through every RSTB."""
        batch, c, height, width = x.shape
        tokens = self.patch_embed(x)
        if self.absolute_pos_embed is not None:
            if tokens.shape[1] != self.absolute_pos_embed.shape[1]:
                raise ValueError(
                    f"this SwinIR has an absolute position embedding for {self.config.img_size}² pixels; "
                    f"a padded input of {height}×{width} does not fit it"
                )
            tokens = tokens + self.absolute_pos_embed
        shift, window = self.config.shift_size, self.config.window_size
        mask = _shift_mask(height, width, window, shift, x.device).to(x.dtype) if shift else None
        for layer in self.layers:
            tokens = layer(tokens, (height, width), mask)
        return self.norm(tokens).transpose(1, 2).reshape(batch, c, height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: N×C×H×W float in [0, 1], any H, W. Returns N×C_out×(H·scale)×(W·scale)."""
        config = self.config
        height, width = x.shape[-2:]
        window = config.window_size
        x = _reflect_pad(x, -height % window, -width % window)
        x = (x - self.mean_in.to(x.dtype)) * config.img_range
        feat = self.conv_first(x)
        feat = self.conv_after_body(self.forward_features(feat)) + feat
        if config.upsampler is Upsampler.PIXELSHUFFLE:
            out = self.conv_last(self.upsample(self.conv_before_upsample(feat)))
        elif config.upsampler is Upsampler.PIXELSHUFFLE_DIRECT:
            out = self.upsample(feat)
        elif config.upsampler is Upsampler.NEAREST_CONV:
            out = self.conv_before_upsample(feat)
            for conv in (self.conv_up1, self.conv_up2):
                if conv is not None:
                    up = F.interpolate(out, scale_factor=2, mode="nearest")
                    out = F.leaky_relu(conv(up), _RECON_SLOPE)
            out = self.conv_last(F.leaky_relu(self.conv_hr(out), _RECON_SLOPE))
        else:
            out = x + self.conv_last(feat)
        out = out / config.img_range + self.mean_out.to(out.dtype)
        return out[:, :, : height * config.scale, : width * config.scale]
