"""Recognise SRVGGNetCompact weights (Real-ESRGAN's compact models) and recover their hyper-parameters."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from ldl_backend.archs.srvgg import Activation, SRVGGNetCompactConfig
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
