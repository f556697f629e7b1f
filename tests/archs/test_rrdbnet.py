"""RRDBNet's inference path: the upsampling convolutions folded to the input's resolution (``subpixel``) and run
in row strips, and the dense blocks without concatenations on the CPU (``dense_concat_free``), equal the plain
training-form forward pass."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from ldl_backend.archs import dense_concat_free
from ldl_backend.archs.dense_concat_free import dense_block, working_dtype
from ldl_backend.archs.rrdbnet import ResidualDenseBlock, RRDBNet, RRDBNetConfig
from ldl_backend.archs.subpixel import PhaseKernels, nearest_double_then_conv
from ldl_backend.engine.device import cpu_has_native_bf16

# The concatenation-free block runs only where oneDNN has native bf16 (AVX-512 or AVX-NE-CONVERT).
NATIVE_BF16 = torch.bfloat16 if cpu_has_native_bf16() else None


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 2),
    channels=st.integers(1, 9),
    out_channels=st.integers(1, 9),
    height=st.integers(1, 13),
    width=st.integers(1, 13),
    bias=st.booleans(),
    channels_last=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_folded_upsampling_equals_nearest_then_conv(
    batch: int, channels: int, out_channels: int, height: int, width: int, bias: bool, channels_last: bool, seed: int
) -> None:
    torch.manual_seed(seed)
    conv = torch.nn.Conv2d(channels, out_channels, 3, 1, 1, bias=bias)
    x = torch.randn(batch, channels, height, width)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = conv(F.interpolate(x, scale_factor=2, mode="nearest"))
        folded = nearest_double_then_conv(x, PhaseKernels.of(conv))
    assert folded.shape == expected.shape
    torch.testing.assert_close(folded, expected, atol=2e-6, rtol=1e-5)
    if channels_last and channels > 1 and out_channels > 1:
        assert folded.is_contiguous(memory_format=torch.channels_last)


def test_only_plain_3x3_convolutions_fold() -> None:
    with pytest.raises(ValueError, match="3×3"):
        PhaseKernels.of(torch.nn.Conv2d(4, 4, 5, 1, 2))
    with pytest.raises(ValueError, match="3×3"):
        PhaseKernels.of(torch.nn.Conv2d(4, 4, 3, 2, 1))


@pytest.mark.parametrize("scale", [4, 2, 1])
def test_inference_path_equals_the_training_form(scale: int) -> None:
    torch.manual_seed(scale)
    network = RRDBNet(RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4, scale=scale)).eval()
    # 2·72 / unshuffle body rows: more than two strips of 32 rows, with a short last strip.
    x = torch.rand(1, 3, 144, 40)
    training_form = network(x).detach()  # autograd on: whole-image upsampling, plain convolutions
    with torch.inference_mode():
        inference = network(x)
        inference_cl = network.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))  # pyright: ignore[reportCallIssue]
    torch.testing.assert_close(inference, training_form, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(inference_cl, training_form, atol=1e-5, rtol=1e-5)


def test_the_concatenation_free_dense_block_equals_the_plain_one() -> None:
    torch.manual_seed(1)
    block = ResidualDenseBlock(16, 8).eval().to(memory_format=torch.channels_last)  # pyright: ignore[reportCallIssue]
    x = torch.randn(2, 16, 11, 13).contiguous(memory_format=torch.channels_last)
    with torch.enable_grad():
        plain = block(x).detach()  # autograd on: the plain block
    with torch.inference_mode():
        # fp32 is exact up to summation order; bf16 within its rounding of the partial sums.
        torch.testing.assert_close(dense_block(block, x, torch.float32), plain, atol=1e-5, rtol=1e-5)
        assert working_dtype(x) is None  # fp32 inference keeps the plain block (as fast there)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert working_dtype(x) == NATIVE_BF16
            fast = block(x)
        assert fast.dtype == (NATIVE_BF16 or torch.float32)  # the plain block's residual sum is in x's dtype
        torch.testing.assert_close(fast.float(), plain, atol=0.05, rtol=0.02)
        assert working_dtype(x.contiguous()) is None  # NCHW: the plain block


def test_the_concatenation_free_block_is_not_used_for_training() -> None:
    x = torch.randn(1, 16, 8, 8).contiguous(memory_format=torch.channels_last).bfloat16()
    with torch.inference_mode():
        assert working_dtype(x) == NATIVE_BF16
    assert working_dtype(x) is None  # autograd on


def test_a_cpu_without_native_bf16_keeps_the_plain_block(monkeypatch: pytest.MonkeyPatch) -> None:
    # oneDNN's fused bf16 convolution raises there ("bf16 path needs the cpu support avx_ne_convert or avx512bw…",
    # AMD Zen 3): the block must fall back, and a bf16 forward still runs.
    monkeypatch.setattr(dense_concat_free, "_fused_bf16_available", lambda: False)
    torch.manual_seed(2)
    block = ResidualDenseBlock(16, 8).eval().to(memory_format=torch.channels_last)  # pyright: ignore[reportCallIssue]
    x = torch.randn(1, 16, 8, 8).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        exact = block(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert working_dtype(x) is None and working_dtype(x.bfloat16()) is None
            torch.testing.assert_close(block(x).float(), exact, atol=0.05, rtol=0.02)
