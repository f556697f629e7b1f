"""RRDBNet (ESRGAN, Real-ESRGAN, LDL): recognised from its weights, with its precision, tiling and cost facts."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.models.architectures.spec import Architecture, ArchitectureSpec, CpuRates
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


# Context beyond the blend zone, measured with benchmarks/tiling_accuracy.py (fp32, 2×2 tiles of 128 on 192² crops
# of two photos; overlaps below include the 16-pixel blend): realesrgan-x4plus differs from untiled by mean 0.12 /
# p99.9 4 / max 15 levels at overlap 48, 0.06–0.09 / 2–3 / 9 at 64 and 0.06–0.09 / 1–2 / 4–9 at 80. Its theoretical
# field (348 px for x4plus) would make tiling pointless.
_TILE_CONTEXT = 64
# Time per input pixel of one pass on the CPU by tile side (benchmarks/tile_cost.py, x4plus on two cores, one pass
# per size after a first). fp32, AMD EPYC Zen 3 (no native bf16): 206, 238, 264, 285, 299, 299, 303, 324 and 310
# µs at 128², 192², 256², 320², 384², 512², 640², 768² and 1024². The dense blocks' maps (up to 192 channels) leave
# the 32 MB L3 cache from about 128², and from 384² the pass streams from memory at an almost steady rate: the curve
# runs straight from 384² to 1024² (768²'s figure is within the spread between runs). bf16 with the
# concatenation-free dense block, Zen 4 (whole process): 95 µs untiled at 384², 99 µs at 512², and 1024² ran
# untiled at the rate of 384².
CPU_RATES = CpuRates(
    fp32=((128, 1.0), (192, 1.16), (256, 1.28), (320, 1.38), (384, 1.45), (1024, 1.50)),
    half=((384, 1.0), (512, 1.04)),
)


def _tile_context(config: RRDBNetConfig) -> int:
    return _TILE_CONTEXT


def _activation_bytes_per_pixel(config: RRDBNetConfig, element_bytes: int) -> float:
    # The body's dense blocks (the upsampling runs in strips, see RRDBNet.forward), plus the fp32 output.
    # Measured peak RSS growth of one pass for x4plus on the CPU (benchmarks/tile_cost.py), the output included:
    # fp32 2.57 KB per input pixel at 256²; bf16 1.13, 1.12, 1.03 and 0.84 KB at 232², 256², 384² and 512² (under
    # autocast some maps stay fp32). This gives 2.69 KB in fp32 and 1.28 KB in bf16 (was 3.46 and 1.92, which
    # capped a 384² photo at 320-pixel tiles).
    per_feature = 9 if element_bytes >= 4 else 7
    return per_feature * config.num_feat * element_bytes + 2 * config.out_channels * config.scale**2 * 4


RRDBNET = Architecture("RRDBNet")

RRDBNET_SPEC = ArchitectureSpec(
    architecture=RRDBNET,
    config_type=RRDBNetConfig,
    build=RRDBNet,
    detect=detect_rrdbnet,
    supports_fp16=True,
    channels_last=True,
    tile_context=_tile_context,
    activation_bytes_per_pixel=_activation_bytes_per_pixel,
    cpu_rates=CPU_RATES,
    # 17.9 M multiply-adds per input pixel against 2.7 KB of fp32 activations, and an 80-pixel overlap: in the fixed
    # budget's 279² tiles a 2048² photo computes 1.8× its area, in 1024-wide tiles 1.16×, at the same rate per pixel.
    cpu_wide_tiles=True,
    # x4plus runs at about 0.15 output MP/s in bf16 on two CPU cores (docs/engineering-notes.md).
    prior_seconds_per_megapixel=6.5,
)
