"""SRVGGNetCompact (Real-ESRGAN's compact models): recognised from its weights, with its tiling and cost facts."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from ldl_backend.archs.srvgg import Activation, SRVGGNetCompact, SRVGGNetCompactConfig
from ldl_backend.models.architectures.spec import Architecture, ArchitectureSpec
from ldl_backend.models.mismatch import DetectionMismatch
from ldl_backend.models.state_dict import block_indices

SIGNATURE = ("body.0.weight", "body.0.bias")


def detect_srvgg(state_dict: Mapping[str, torch.Tensor]) -> SRVGGNetCompactConfig:
    missing = [key for key in SIGNATURE if key not in state_dict]
    if missing:
        raise DetectionMismatch(missing, score=1 - len(missing) / len(SIGNATURE))
    indices = block_indices(state_dict, "body.")
    convs = [i for i in indices if state_dict.get(f"body.{i}.weight", torch.empty(0)).dim() == 4]
    if len(convs) < 2:
        raise DetectionMismatch(score=0.5, detail="a compact network has at least two convolutions")
    # PReLU layers carry a weight between the convolutions; ReLU and LeakyReLU carry nothing, so the two are
    # indistinguishable from the weights and we assume LeakyReLU(0.1), the other activation Real-ESRGAN ships.
    prelu = any(state_dict.get(f"body.{i}.weight", torch.empty(0, 0)).dim() == 1 for i in indices)
    if convs != list(range(0, 2 * len(convs), 2)):
        raise DetectionMismatch(score=0.5, detail=f"convolutions at unexpected positions {convs}")
    first = state_dict["body.0.weight"]
    last = state_dict[f"body.{convs[-1]}.weight"]
    in_channels = first.shape[1]
    scale = math.isqrt(last.shape[0] // in_channels)
    if scale * scale * in_channels != last.shape[0]:
        raise DetectionMismatch(
            score=0.6, detail=f"last convolution has {last.shape[0]} outputs, not channels × scale²"
        )
    return SRVGGNetCompactConfig(
        in_channels=in_channels,
        out_channels=in_channels,
        num_feat=first.shape[0],
        num_conv=len(convs) - 2,
        scale=scale,
        activation=Activation.PRELU if prelu else Activation.LEAKY_RELU,
    )


def _tile_context(config: SRVGGNetCompactConfig) -> int:
    # Twice the exact receptive field: tiled output equals untiled (max 1 level, rounding) from a 40-pixel overlap
    # on the released compact model (benchmarks/tiling_accuracy.py).
    return 2 * config.receptive_field


def _activation_bytes_per_pixel(config: SRVGGNetCompactConfig, element_bytes: int) -> float:
    # A few feature maps at input resolution, and the fp32 output with the upscaled input it is added into.
    return 3 * config.num_feat * element_bytes + 3 * config.out_channels * config.scale**2 * 4


SRVGG_COMPACT = Architecture("SRVGGNetCompact")

SRVGG_COMPACT_SPEC = ArchitectureSpec(
    architecture=SRVGG_COMPACT,
    config_type=SRVGGNetCompactConfig,
    build=SRVGGNetCompact,
    detect=detect_srvgg,
    supports_fp16=True,
    channels_last=True,
    tile_context=_tile_context,
    activation_bytes_per_pixel=_activation_bytes_per_pixel,
    # A flat CPU rate: the cache slowdown was measured on RRDBNet's wide dense-block maps; this network's are narrow.
    # Fixed-budget CPU tiles: about 0.6 M multiply-adds per pixel against 1.3 KB of activations, so wider tiles would
    # save little time for their memory, and a 24 MP job keeps its peak near the output's size.
    # About ten times faster than RRDBNet ×4 on the same two-core CPU.
    prior_seconds_per_megapixel=0.7,
)
