"""The engine's per-architecture choices, read from the specs: overlap, memory per pixel, CPU tile cost and memory
layout. The numbers are the ones the engine chose before the specs existed, RRDBNet's memory per pixel remeasured
(benchmarks/tile_cost.py)."""

from __future__ import annotations

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompactConfig
from ldl_backend.archs.swinir import SwinIRConfig
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.memory import activation_bytes_per_pixel, automatic_budget
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
        (RRDBNetConfig(), 9 * 64 * 4 + 2 * 3 * 16 * 4, 7 * 64 * 2 + 2 * 3 * 16 * 4),
        (SRVGGNetCompactConfig(), 3 * 64 * 4 + 3 * 3 * 16 * 4, 3 * 64 * 2 + 3 * 3 * 16 * 4),
        (SwinIRConfig(), (2 * 180 * 5 + 6 * 64) * 4 + 3 * 64 * 16 * 4, (2 * 180 * 5 + 6 * 64) * 2 + 3 * 64 * 16 * 2),
    ],
)
def test_activation_bytes_per_pixel(config: ArchConfig, fp32: float, bf16: float) -> None:
    descriptor = ModelDescriptor.from_config(config)
    assert activation_bytes_per_pixel(descriptor, Precision.FP32) == fp32
    assert activation_bytes_per_pixel(descriptor, Precision.BF16) == bf16


@pytest.mark.parametrize(
    ("config", "rises", "wide"),
    [(RRDBNetConfig(num_feat=16), True, True), (_SMALL_SWINIR, True, False), (SRVGGNetCompactConfig(), False, False)],
)
@pytest.mark.parametrize("precision", [Precision.FP32, Precision.BF16])
def test_the_cpu_tile_cost_rises_with_the_tile_for_some_architectures_only(
    config: ArchConfig, rises: bool, wide: bool, precision: Precision
) -> None:
    descriptor = ModelDescriptor.from_config(config)
    plenty = 64 << 30
    cpu = automatic_budget(descriptor, ComputeTarget(torch.device("cpu"), precision), plenty)
    gpu = automatic_budget(descriptor, ComputeTarget(torch.device("cuda"), precision), plenty)
    assert (cpu.cost.rate(1024 * 1024) > cpu.cost.rate(128 * 128)) is rises
    assert gpu.cost.rate(1024 * 1024) == gpu.cost.rate(64 * 64) == 1.0
    assert cpu.max_side == gpu.max_side == 1024
    # The CPU keeps a fixed activation budget (the output shares its memory) unless the architecture's tiles may
    # take the whole-image share of free RAM; a GPU takes a share of what is free.
    per_pixel = activation_bytes_per_pixel(descriptor, precision)
    assert cpu.max_pixels == int(plenty * 0.25 / per_pixel if wide else (200 << 20) / per_pixel)
    assert gpu.max_pixels == int(plenty * 0.6 / per_pixel)


@pytest.mark.parametrize(
    ("config", "channels_last"),
    [(RRDBNetConfig(num_block=1, num_feat=8), True), (SRVGGNetCompactConfig(num_feat=4), True), (_SMALL_SWINIR, False)],
)
def test_only_convolutional_networks_run_channels_last(config: ArchConfig, channels_last: bool) -> None:
    descriptor = ModelDescriptor.from_config(config)
    runner = TorchRunner(descriptor.build(), descriptor, ComputeTarget(torch.device("cpu"), Precision.FP32))
    weight = next(p for p in runner._network.parameters() if p.dim() == 4)  # pyright: ignore[reportPrivateUsage]
    assert weight.is_contiguous(memory_format=torch.channels_last) is channels_last
