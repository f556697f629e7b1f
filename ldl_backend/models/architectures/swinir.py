"""SwinIR: a ``SwinIRConfig`` recovered from a state dict's keys and shapes (official, LDL or this package's
layout), with its precision, tiling and cost facts."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch

from ldl_backend.archs.swinir import SwinIR, SwinIRConfig, Upsampler, strip_derived_buffers
from ldl_backend.models.architectures.spec import Architecture, ArchitectureSpec, CpuRates
from ldl_backend.models.mismatch import DetectionMismatch

_BLOCK = "layers.{i}.residual_group.blocks.{j}."
# Keys every SwinIR has, whatever its upsampler; their presence is the detection score.
_SIGNATURE = (
    "conv_first.weight",
    "layers.0.residual_group.blocks.0.norm1.weight",
    "layers.0.residual_group.blocks.0.attn.qkv.weight",
    "layers.0.residual_group.blocks.0.attn.relative_position_bias_table",
    "layers.0.residual_group.blocks.0.mlp.fc1.weight",
    "norm.weight",
)
_AFTER_BODY = ("conv_after_body.weight", "conv_after_body.0.weight")
# The official zoo's only window-7 models are the JPEG artifact removers, trained with img_range 255.
_JPEG_WINDOW = 7
_JPEG_IMG_RANGE = 255.0


def _count(state_dict: Mapping[str, torch.Tensor], pattern: str) -> int:
    """How many consecutive indices n from 0 have ``pattern.format(n=n)`` in the state dict."""
    count = 0
    while pattern.format(n=count) in state_dict:
        count += 1
    return count


def _isqrt_exact(value: int) -> int | None:
    root = math.isqrt(value)
    return root if root * root == value else None


def _window_size(table_rows: int) -> int:
    side = _isqrt_exact(table_rows)
    if side is None or side % 2 == 0:
        raise DetectionMismatch(
            score=1.0, detail=f"relative_position_bias_table has {table_rows} rows, not (2·window−1)²"
        )
    return (side + 1) // 2


def _upsampler_and_scale(state_dict: Mapping[str, torch.Tensor], in_channels: int) -> tuple[Upsampler, int, int, int]:
    """(upsampler, scale, out_channels, num_feat) from the reconstruction keys; num_feat is 64 when unused."""
    default_feat = SwinIRConfig.num_feat
    if "conv_before_upsample.0.weight" in state_dict:
        num_feat = state_dict["conv_before_upsample.0.weight"].shape[0]
        out_channels = _shape(state_dict, "conv_last.weight")[0]
        if "conv_up1.weight" in state_dict:
            return Upsampler.NEAREST_CONV, 4 if "conv_up2.weight" in state_dict else 2, out_channels, num_feat
        scale, index = 1, 0
        while f"upsample.{index}.weight" in state_dict:
            ratio = state_dict[f"upsample.{index}.weight"].shape[0] // num_feat
            if ratio not in (4, 9):
                raise DetectionMismatch(score=1.0, detail=f"upsample.{index} widens by {ratio}, not by 4 or 9")
            scale *= 2 if ratio == 4 else 3
            index += 2  # the odd indices are the parameter-free PixelShuffle layers
        return Upsampler.PIXELSHUFFLE, scale, out_channels, num_feat
    if "upsample.0.weight" in state_dict:
        # One conv to out·scale² channels; out equals in for this upsampler (SwinIRConfig enforces it).
        width = state_dict["upsample.0.weight"].shape[0]
        scale = _isqrt_exact(width // in_channels) if width % in_channels == 0 else None
        if scale is None:
            raise DetectionMismatch(
                score=1.0,
                detail=f"upsample.0 has {width} outputs, not {in_channels}·scale² for a whole scale",
            )
        return Upsampler.PIXELSHUFFLE_DIRECT, scale, in_channels, default_feat
    out_channels = _shape(state_dict, "conv_last.weight")[0]
    return Upsampler.NONE, 1, out_channels, default_feat


def _shape(state_dict: Mapping[str, torch.Tensor], key: str) -> tuple[int, ...]:
    if key not in state_dict:
        raise DetectionMismatch(missing_keys=[key], score=1.0, detail=f"SwinIR reconstruction lacks {key}")
    return tuple(state_dict[key].shape)


def _img_size(state_dict: Mapping[str, torch.Tensor], window: int) -> int:
    """Training size from the position embedding or a saved shift mask; 64 (the zoo's usual) when neither."""
    if "absolute_pos_embed" in state_dict:
        side = _isqrt_exact(state_dict["absolute_pos_embed"].shape[1])
        if side is None:
            raise DetectionMismatch(score=1.0, detail="absolute_pos_embed does not cover a square image")
        return side
    mask_key = next((key for key in state_dict if key.endswith("attn_mask")), None)
    if mask_key is not None:
        windows_per_side = _isqrt_exact(state_dict[mask_key].shape[0])
        if windows_per_side is not None:
            return windows_per_side * window
    return SwinIRConfig.img_size


def detect_swinir(state_dict: Mapping[str, torch.Tensor]) -> SwinIRConfig:
    """The ``SwinIRConfig`` whose network has exactly these keys and shapes.

    ``state_dict``: parameter name → tensor, with or without the official ``relative_position_index`` and
    ``attn_mask`` buffers (the latter, when present, gives ``img_size``). Only keys and shapes are read.
    ``img_range`` cannot be read from weights: 255 for window-7 models without upsampler (the official JPEG
    models), else 1. Raises ``DetectionMismatch`` when the keys are not SwinIR's (``score`` = fraction of the
    signature keys present) or when shapes contradict each other.
    """
    missing = [key for key in _SIGNATURE if key not in state_dict]
    after_body = [key for key in _AFTER_BODY if key in state_dict]
    if not after_body:
        missing.append(_AFTER_BODY[0])
    if missing:
        score = 1.0 - len(missing) / (len(_SIGNATURE) + 1)
        raise DetectionMismatch(missing_keys=missing, score=score, detail=f"not SwinIR: missing {missing[0]}")

    in_channels, embed_dim = (
        state_dict["conv_first.weight"].shape[1],
        state_dict["conv_first.weight"].shape[0],
    )
    num_layers = _count(state_dict, "layers.{n}.residual_group.blocks.0.norm1.weight")
    depths: list[int] = []
    num_heads: list[int] = []
    windows: set[int] = set()
    for i in range(num_layers):
        depths.append(_count(state_dict, f"layers.{i}.residual_group.blocks.{{n}}.norm1.weight"))
        table = state_dict[_BLOCK.format(i=i, j=0) + "attn.relative_position_bias_table"]
        num_heads.append(table.shape[1])
        windows.add(_window_size(table.shape[0]))
    if len(windows) != 1:
        raise DetectionMismatch(score=1.0, detail=f"layers disagree on the window size: {sorted(windows)}")
    window = windows.pop()
    _check_no_stray_layers(state_dict, num_layers)

    upsampler, scale, out_channels, num_feat = _upsampler_and_scale(state_dict, in_channels)
    first = _BLOCK.format(i=0, j=0)
    is_jpeg = window == _JPEG_WINDOW and upsampler is Upsampler.NONE
    try:
        return SwinIRConfig(
            in_channels=in_channels,
            out_channels=out_channels,
            scale=scale,
            upsampler=upsampler,
            img_size=_img_size(state_dict, window),
            window_size=window,
            embed_dim=embed_dim,
            depths=tuple(depths),
            num_heads=tuple(num_heads),
            mlp_ratio=state_dict[first + "mlp.fc1.weight"].shape[0] / embed_dim,
            resi_connection="1conv" if after_body[0] == "conv_after_body.weight" else "3conv",
            img_range=_JPEG_IMG_RANGE if is_jpeg else 1.0,
            num_feat=num_feat,
            qkv_bias=first + "attn.qkv.bias" in state_dict,
            ape="absolute_pos_embed" in state_dict,
            patch_norm="patch_embed.norm.weight" in state_dict,
        )
    except ValueError as e:
        raise DetectionMismatch(score=1.0, detail=f"SwinIR keys, but inconsistent hyper-parameters: {e}") from e


def _check_no_stray_layers(state_dict: Mapping[str, torch.Tensor], num_layers: int) -> None:
    """Layer indices must be 0..num_layers−1 with no gap, or the depths read above would be wrong."""
    indices = {int(m.group(1)) for key in state_dict if (m := re.match(r"layers\.(\d+)\.", key))}
    if indices != set(range(num_layers)):
        raise DetectionMismatch(score=1.0, detail=f"layer indices {sorted(indices)} are not 0..{num_layers - 1}")


def _tile_context(config: SwinIRConfig) -> int:
    # The window padding changes with the tile, so tiled output is only close to untiled. 8 × window_size pixels
    # of context (64 for the usual window of 8) instead of the theoretical field, which exceeds any tile.
    return 8 * config.window_size


def _activation_bytes_per_pixel(config: SwinIRConfig, element_bytes: int) -> float:
    # The MLP hidden state and q, k, v of every token, and the attention of each window; then the upsampler.
    hidden = config.embed_dim * (3 + config.mlp_ratio)
    attention = max(config.num_heads) * config.window_size**2
    return (2 * hidden + attention) * element_bytes + 3 * config.num_feat * config.scale**2 * element_bytes


SWINIR = Architecture("SwinIR")
# 1 + 0.05 × (4096² − 384²) / 384² at 4096²: linear in area from 384², as far as any tile or whole image goes.
_ASSUMED_RATES = ((384, 1.0), (4096, 6.64))

SWINIR_SPEC = ArchitectureSpec(
    architecture=SWINIR,
    config_type=SwinIRConfig,
    build=SwinIR,
    detect=detect_swinir,
    normalize=strip_derived_buffers,
    # The attention softmax overflows in fp16 on some inputs; bf16 keeps the range.
    supports_fp16=False,
    # Its attention is not convolutional, so the NHWC convolution kernels do not apply.
    channels_last=False,
    tile_context=_tile_context,
    activation_bytes_per_pixel=_activation_bytes_per_pixel,
    # Not measured: RRDBNet's older CPU figure, assumed for SwinIR's wide body maps (full speed up to 384², then 5 %
    # more per pixel for each further 384² of area).
    cpu_rates=CpuRates(fp32=_ASSUMED_RATES, half=_ASSUMED_RATES),
    # The client's prior, not measured in this repository: about 2.3 times RRDBNet ×4's.
    prior_seconds_per_megapixel=15.0,
)
