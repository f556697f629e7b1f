"""The engine's per-architecture choices, read from the specs: overlap, memory per pixel, CPU tile cap and memory
layout. The numbers are the ones the engine chose before the specs existed."""

from __future__ import annotations

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompactConfig
from ldl_backend.archs.swinir import SwinIRConfig
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.memory import activation_bytes_per_pixel, automatic_tile
from ldl_backend.engine.runners import TorchRunner
from ldl_backend.engine.upscale import default_overlap
from ldl_backend.models.descriptor import ArchConfig, ModelDescriptor

_SMALL_SWINIR = SwinIRConfig(embed_dim=12, depths=(1,), num_heads=(2,), window_size=4, scale=2, num_feat=8)


@pytest.mark.parametrize(
    ("config", "overlap"),
    [
        (RRDBNetConfig(), 80),
        (RRDBNetConfig(scale=2, num_block=2), 80),
        (SRVGGNetCompactConfig(), 2 * 18 + 16),
        (SRVGGNetCompactConfig(num_conv=32), 2 * 34 + 16),
        (SwinIRConfig(), 8 * 8 + 16),
        (_SMALL_SWINIR, 8 * 4 + 16),
    ],
)
def test_default_overlap(config: ArchConfig, overlap: int) -> None:
    assert default_overlap(ModelDescriptor.from_config(config)) == overlap


@pytest.mark.parametrize(
    ("config", "fp32", "bf16"),
    [
        (RRDBNetConfig(), 12 * 64 * 4 + 2 * 3 * 16 * 4, 12 * 64 * 2 + 2 * 3 * 16 * 4),
        (SRVGGNetCompactConfig(), 3 * 64 * 4 + 3 * 3 * 16 * 4, 3 * 64 * 2 + 3 * 3 * 16 * 4),
        (SwinIRConfig(), (2 * 180 * 5 + 6 * 64) * 4 + 3 * 64 * 16 * 4, (2 * 180 * 5 + 6 * 64) * 2 + 3 * 64 * 16 * 2),
    ],
)
def test_activation_bytes_per_pixel(config: ArchConfig, fp32: float, bf16: float) -> None:
    descriptor = ModelDescriptor.from_config(config)
    assert activation_bytes_per_pixel(descriptor, Precision.FP32) == fp32
    assert activation_bytes_per_pixel(descriptor, Precision.BF16) == bf16


@pytest.mark.parametrize(
    ("config", "cpu_tile"),
    [
        (RRDBNetConfig(num_feat=16), 384),  # 448 fits the budget; capped on the CPU
        (_SMALL_SWINIR, 384),  # 480 fits; capped
        (SRVGGNetCompactConfig(), 416),  # not capped
    ],
)
def test_automatic_tile_caps_some_architectures_on_the_cpu_only(config: ArchConfig, cpu_tile: int) -> None:
    descriptor = ModelDescriptor.from_config(config)
    plenty = 64 << 30
    assert automatic_tile(descriptor, ComputeTarget(torch.device("cpu"), Precision.FP32), plenty) == cpu_tile
    assert automatic_tile(descriptor, ComputeTarget(torch.device("cuda"), Precision.FP32), plenty) == 1024


@pytest.mark.parametrize(
    ("config", "channels_last"),
    [(RRDBNetConfig(num_block=1, num_feat=8), True), (SRVGGNetCompactConfig(num_feat=4), True), (_SMALL_SWINIR, False)],
)
def test_only_convolutional_networks_run_channels_last(config: ArchConfig, channels_last: bool) -> None:
    descriptor = ModelDescriptor.from_config(config)
    runner = TorchRunner(descriptor.build(), descriptor, ComputeTarget(torch.device("cpu"), Precision.FP32))
    weight = next(p for p in runner._network.parameters() if p.dim() == 4)  # pyright: ignore[reportPrivateUsage]
    assert weight.is_contiguous(memory_format=torch.channels_last) is channels_last
