"""Build → save (pth and safetensors) → detect → load → same hyper-parameters and identical outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.srvgg import Activation, SRVGGNetCompact, SRVGGNetCompactConfig
from ldl_backend.archs.swinir import SwinIR, SwinIRConfig, Upsampler
from ldl_backend.models.descriptor import ArchConfig, ModelDescriptor, build_network
from ldl_backend.models.detection import default_registry
from ldl_backend.models.formats.safetensors_file import write_safetensors
from ldl_backend.models.loading import load_model

CONFIGS: list[ArchConfig] = [
    RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4),
    RRDBNetConfig(scale=2, num_block=2, num_feat=12, num_grow_ch=6),
    RRDBNetConfig(scale=1, num_block=1, num_feat=8, num_grow_ch=8),
    RRDBNetConfig(in_channels=1, out_channels=1, scale=4, num_block=3, num_feat=8, num_grow_ch=4),
    SRVGGNetCompactConfig(num_feat=8, num_conv=2, scale=4),
    SRVGGNetCompactConfig(num_feat=6, num_conv=0, scale=2),
    SRVGGNetCompactConfig(in_channels=1, out_channels=1, num_feat=4, num_conv=5, scale=3),
    SwinIRConfig(
        embed_dim=12, depths=(2,), num_heads=(2,), window_size=4, upsampler=Upsampler.NEAREST_CONV, num_feat=8
    ),
    SwinIRConfig(
        embed_dim=12,
        depths=(1, 1),
        num_heads=(3, 2),
        window_size=4,
        scale=2,
        upsampler=Upsampler.PIXELSHUFFLE,
        num_feat=8,
    ),
]


def _seeded(config: ArchConfig) -> torch.nn.Module:
    torch.manual_seed(1)
    network = build_network(config).eval()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    return network


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{type(c).__name__}-{abs(hash(c)) % 10**6}")
@pytest.mark.parametrize("file_format", ["pth", "safetensors"])
def test_round_trip(config: ArchConfig, file_format: str, tmp_path: Path) -> None:
    network = _seeded(config)
    path = tmp_path / f"model.{file_format}"
    if file_format == "pth":
        torch.save({"params": network.state_dict()}, path)
    else:
        write_safetensors(path, network.state_dict())

    loaded = load_model(path)

    assert loaded.descriptor.config == config
    assert loaded.descriptor.scale == config.scale
    assert loaded.descriptor.size_multiple == config.size_multiple
    sample = torch.rand(1, config.in_channels, 12, 16)
    with torch.inference_mode():
        expected, actual = network(sample), loaded.network(sample)
    assert actual.shape == (1, config.out_channels, 12 * config.scale, 16 * config.scale)
    assert torch.equal(expected, actual)


def test_activation_without_weights_is_detected_as_parameter_free(tmp_path: Path) -> None:
    network = SRVGGNetCompact(SRVGGNetCompactConfig(num_feat=4, num_conv=1, activation=Activation.RELU))
    torch.save(network.state_dict(), tmp_path / "relu.pth")
    assert load_model(tmp_path / "relu.pth").descriptor.config.activation is not Activation.PRELU  # type: ignore[union-attr]


def test_descriptor_reports_what_the_engine_needs() -> None:
    rrdb = load_descriptor(RRDBNet(RRDBNetConfig(scale=2, num_block=1, num_feat=8, num_grow_ch=4)))
    assert (rrdb.size_multiple, rrdb.supports_fp16, rrdb.supports_tiling) == (2, True, True)
    assert rrdb.receptive_field >= 17
    swinir = load_descriptor(SwinIR(SwinIRConfig(embed_dim=12, depths=(1,), num_heads=(2,), window_size=4)))
    assert swinir.size_multiple == 4
    assert not swinir.supports_fp16 and swinir.supports_bf16


def load_descriptor(network: torch.nn.Module) -> ModelDescriptor:
    return default_registry().detect(network.state_dict()).descriptor


def test_invalid_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="scale must be 1, 2 or 4"):
        RRDBNetConfig(scale=3)
    with pytest.raises(ValueError, match="num_block"):
        RRDBNetConfig(num_block=0)
    with pytest.raises(ValueError, match="in_channels must equal"):
        SRVGGNetCompactConfig(in_channels=3, out_channels=1)
