"""Recognise RRDBNet weights (ESRGAN, Real-ESRGAN, LDL) and recover their hyper-parameters."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.models.mismatch import DetectionMismatch
from ldl_backend.models.state_dict import block_indices

SIGNATURE = (
    "conv_first.weight",
    "body.0.rdb1.conv1.weight",
    "body.0.rdb3.conv5.weight",
    "conv_body.weight",
    "conv_up1.weight",
    "conv_up2.weight",
    "conv_hr.weight",
    "conv_last.weight",
)
# conv_first sees the input folded by pixel-unshuffle: ×1 channels for scale 4, ×4 for scale 2, ×16 for scale 1.
_SCALE_FOR_FOLD = {1: 4, 4: 2, 16: 1}


def detect_rrdbnet(state_dict: Mapping[str, torch.Tensor]) -> RRDBNetConfig:
    missing = [key for key in SIGNATURE if key not in state_dict]
    if missing:
        raise DetectionMismatch(missing, score=1 - len(missing) / len(SIGNATURE))
    blocks = block_indices(state_dict, "body.")
    if blocks != list(range(len(blocks))):
        raise DetectionMismatch(score=0.9, detail=f"RRDB blocks are not numbered 0..N-1: {blocks}")
    first = state_dict["conv_first.weight"]
    out_channels = state_dict["conv_last.weight"].shape[0]
    fold, remainder = divmod(first.shape[1], out_channels)
    if remainder or fold not in _SCALE_FOR_FOLD:
        raise DetectionMismatch(
            score=0.9,
            detail=f"conv_first takes {first.shape[1]} channels, which fits no scale for {out_channels} outputs",
        )
    return RRDBNetConfig(
        in_channels=out_channels,
        out_channels=out_channels,
        scale=_SCALE_FOR_FOLD[fold],
        num_feat=first.shape[0],
        num_block=len(blocks),
        num_grow_ch=state_dict["body.0.rdb1.conv1.weight"].shape[0],
    )
