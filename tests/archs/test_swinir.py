"""SwinIR: round trips through .pth and .safetensors, official-layout loading, shifted-window maths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.swinir import (
    SwinIR,
    SwinIRConfig,
    SwinTransformerBlock,
    Upsampler,
    _shift_mask,  # pyright: ignore[reportPrivateUsage]
    strip_derived_buffers,
)
from ldl_backend.models.architectures.swinir import detect_swinir
from ldl_backend.models.mismatch import DetectionMismatch

_TINY: dict[str, Any] = {
    "embed_dim": 12,
    "depths": (2, 2),
    "num_heads": (2, 3),
    "window_size": 4,
    "num_feat": 8,
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    # These nets are tiny: threads gain nothing, and on a busy 2-core machine OpenMP's thread waits made the
    # file ten times slower. Restored afterwards so other modules keep their setting.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tiny(**changes: Any) -> SwinIRConfig:
    return SwinIRConfig(**{**_TINY, **changes})


CONFIGS = {
    "nearest_x4_rgb": _tiny(),
    "nearest_x2_gray_3conv_w8": _tiny(
        embed_dim=16,
        num_heads=(2, 4),
        window_size=8,
        in_channels=1,
        out_channels=1,
        scale=2,
        resi_connection="3conv",
    ),
    "pixelshuffle_x3": _tiny(upsampler=Upsampler.PIXELSHUFFLE, scale=3, mlp_ratio=1.5),
    "pixelshuffle_x4_gray_to_rgb": _tiny(upsampler=Upsampler.PIXELSHUFFLE, scale=4, in_channels=1, out_channels=3),
    "pixelshuffle_x2_3conv_plain": _tiny(
        embed_dim=24,
        depths=(1, 2, 1),
        num_heads=(3, 2, 4),
        upsampler=Upsampler.PIXELSHUFFLE,
        scale=2,
        resi_connection="3conv",
        qkv_bias=False,
        patch_norm=False,
    ),
    # num_feat is unused by these upsamplers, so detection reports the default.
    "direct_x3_w8": _tiny(window_size=8, upsampler=Upsampler.PIXELSHUFFLE_DIRECT, scale=3, num_feat=64),
    "none_gray_w8": _tiny(window_size=8, upsampler=Upsampler.NONE, scale=1, in_channels=1, out_channels=1, num_feat=64),
    "none_jpeg_w7_range255": _tiny(window_size=7, upsampler=Upsampler.NONE, scale=1, img_range=255.0, num_feat=64),
    "nearest_x4_ape": _tiny(window_size=8, ape=True, img_size=16),
}


def _build(config: SwinIRConfig, seed: int) -> SwinIR:
    torch.manual_seed(seed)
    return SwinIR(config).eval()


def _save_and_load(state: dict[str, torch.Tensor], path: Path, fmt: str) -> dict[str, torch.Tensor]:
    if fmt == "pth":
        torch.save(state, path)
        return torch.load(path, weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return load_file(str(path))


@pytest.mark.parametrize("fmt", ["pth", "safetensors"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_round_trip(name: str, fmt: str, tmp_path: Path) -> None:
    config = CONFIGS[name]
    original = _build(config, seed=0)
    loaded = _save_and_load(original.state_dict(), tmp_path / f"model.{fmt}", fmt)

    detected = detect_swinir(loaded)
    assert detected == config

    rebuilt = _build(detected, seed=1)  # a different seed: equal outputs prove the weights were loaded
    rebuilt.load_state_dict(loaded, strict=True)
    torch.manual_seed(2)
    x = torch.rand(1, config.in_channels, 13, 11)  # not a window multiple: exercises the internal pad and crop
    with torch.no_grad():
        expected, actual = original(x), rebuilt(x)
    assert expected.shape == (1, config.out_channels, 13 * config.scale, 11 * config.scale)
    assert torch.isfinite(expected).all()
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


def _official_buffers(model: SwinIR, img_size: int) -> dict[str, torch.Tensor]:
    """The extra buffers the official code saves, rebuilt here from the official definitions."""
    config = model.config
    w, s = config.window_size, config.shift_size
    coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (w - 1)
    index = rel[:, :, 0] * (2 * w - 1) + rel[:, :, 1]
    img = torch.zeros(img_size, img_size)
    cuts = (slice(0, -w), slice(-w, -s), slice(-s, None))
    for n, (hs, ws) in enumerate((h, v) for h in cuts for v in cuts):
        img[hs, ws] = n
    windows = img.view(img_size // w, w, img_size // w, w).permute(0, 2, 1, 3).reshape(-1, w * w)
    diff = windows[:, None, :] - windows[:, :, None]
    mask = diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)
    extra: dict[str, torch.Tensor] = {}
    for i, depth in enumerate(config.depths):
        for j in range(depth):
            prefix = f"layers.{i}.residual_group.blocks.{j}."
            extra[prefix + "attn.relative_position_index"] = index
            if j % 2:
                extra[prefix + "attn_mask"] = mask
    return extra


def test_official_layout_loads_strict_after_strip() -> None:
    config = CONFIGS["nearest_x4_rgb"]
    model = _build(config, seed=0)
    official = {**model.state_dict(), **_official_buffers(model, img_size=32)}
    # The official mask buffers are the same maths as the masks computed on the fly here.
    index = model.layers[0].residual_group.blocks[0].attn.relative_position_index  # type: ignore[union-attr,index]
    assert torch.equal(official["layers.0.residual_group.blocks.0.attn.relative_position_index"], index)

    with pytest.raises(RuntimeError, match="Unexpected key"):
        _build(config, seed=1).load_state_dict(official, strict=True)
    assert detect_swinir(official) == _tiny(img_size=32)  # img_size read from attn_mask
    stripped = strip_derived_buffers(official)
    assert set(stripped) == set(model.state_dict())
    rebuilt = _build(config, seed=1)
    rebuilt.load_state_dict(stripped, strict=True)
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)


def _naive_block(block: SwinTransformerBlock, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """One block as dense attention over the whole (rolled) image, masked to windows: no partitioning."""
    w, s, attn = block.window, block.shift, block.attn
    batch, length, c = x.shape
    heads = attn.num_heads
    r, q_col = (t.flatten() for t in torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij"))
    source = ((r + s) % height) * width + (q_col + s) % width  # rolled position → original pixel
    y = block.norm1(x)[:, source]
    q, k, v = attn.qkv(y).view(batch, length, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    logits = (q @ k.transpose(-1, -2)) * (c // heads) ** -0.5
    index = (r[:, None] - r[None, :] + w - 1) * (2 * w - 1) + (q_col[:, None] - q_col[None, :] + w - 1)
    same_window = ((r[:, None] // w) == (r[None, :] // w)) & ((q_col[:, None] // w) == (q_col[None, :] // w))
    bias = attn.relative_position_bias_table[index.clamp(0, (2 * w - 1) ** 2 - 1)].permute(2, 0, 1)
    if s:

        def band(v: torch.Tensor, size: int) -> torch.Tensor:
            return torch.where(v < size - w, 0, torch.where(v < size - s, 1, 2))

        label = band(r, height) * 3 + band(q_col, width)
        bias = bias + torch.where(label[:, None] != label[None, :], -100.0, 0.0)
    logits = (logits + bias).masked_fill(~same_window, float("-inf"))
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, c)
    unrolled = torch.empty_like(out)
    unrolled[:, source] = attn.proj(out)
    x = x + unrolled
    return x + block.mlp(block.norm2(x))


@pytest.mark.parametrize(("window", "height", "width"), [(4, 8, 12), (8, 16, 24)])
@pytest.mark.parametrize("shifted", [False, True])
def test_window_attention_matches_dense_reference(window: int, height: int, width: int, shifted: bool) -> None:
    config = _tiny(window_size=window)
    model = _build(config, seed=3)
    block = model.layers[0].residual_group.blocks[1 if shifted else 0]  # type: ignore[index,union-attr]
    assert isinstance(block, SwinTransformerBlock) and (block.shift > 0) == shifted
    torch.manual_seed(4)
    x = torch.randn(2, height * width, config.embed_dim)
    mask = _shift_mask(height, width, window, config.shift_size, x.device)
    with torch.no_grad():
        torch.testing.assert_close(block(x, (height, width), mask), _naive_block(block, x, height, width))


@pytest.mark.parametrize(("height", "width"), [(1, 1), (2, 3), (5, 9)])
def test_tiny_inputs_pad_and_crop(height: int, width: int) -> None:
    model = _build(_tiny(window_size=8), seed=0)
    with torch.no_grad():
        out = model(torch.rand(1, 3, height, width))
    assert out.shape == (1, 3, 4 * height, 4 * width)
    assert torch.isfinite(out).all()


def test_internal_pad_equals_caller_reflect_pad() -> None:
    model = _build(CONFIGS["pixelshuffle_x3"], seed=0)
    x = torch.rand(1, 3, 13, 11)
    padded = F.pad(x, (0, 1, 0, 3), mode="reflect")  # to 16×12, the next multiples of the window (4)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(padded)[:, :, :39, :33], rtol=0, atol=0)


def test_rrdbnet_is_not_swinir() -> None:
    state = RRDBNet(RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4)).state_dict()
    with pytest.raises(DetectionMismatch) as info:
        detect_swinir(state)
    assert info.value.score < 0.3
    assert "layers.0.residual_group.blocks.0.attn.relative_position_bias_table" in info.value.missing_keys


def test_inconsistent_swinir_keys_are_a_mismatch() -> None:
    state = _build(CONFIGS["nearest_x4_rgb"], seed=0).state_dict()
    state["layers.0.residual_group.blocks.0.attn.relative_position_bias_table"] = torch.zeros(50, 2)
    with pytest.raises(DetectionMismatch, match="rows"):
        detect_swinir(state)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_heads": (2,)}, "equal length"),
        ({"num_heads": (5, 2)}, "divisible"),
        ({"scale": 3}, "nearest\\+conv supports"),
        ({"upsampler": "pixelshuffle", "scale": 5}, "power of 2"),
        ({"upsampler": "", "scale": 2}, "scale 1"),
        ({"upsampler": "bicubic"}, "upsampler must be one of"),
        ({"resi_connection": "2conv"}, "resi_connection"),
        ({"mlp_ratio": 1.3}, "whole number"),
        ({"img_size": 4}, "must exceed window_size"),
        ({"patch_size": 2}, "patch_size"),
        ({"upsampler": "pixelshuffledirect", "scale": 2, "out_channels": 1}, "in_channels == out_channels"),
        ({"depths": ()}, "non-empty"),
        ({"embed_dim": 0}, "at least 1"),
        ({"img_range": 0.0}, "positive"),
    ],
)
def test_bad_configs_raise(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _tiny(**changes)


def test_config_accepts_plain_values_from_files() -> None:
    config = _tiny(depths=[2, 2], num_heads=[2, 3], upsampler="nearest+conv")
    assert config == CONFIGS["nearest_x4_rgb"]
    assert config.size_multiple == 4
    assert config.receptive_field == 4 * 4 + 1 + 3 + 2
