"""The training-form map and LDL's artifact term on CUDA: equal to the CPU's float64 result, deterministic (exact
resumes need it), and unchanged under the training step's autocast."""

from __future__ import annotations

import pytest
import torch

from ldl_backend.artifacts.training_map import artifact_l1, refined_artifact_map


def _triplet(device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(11)
    hr = torch.rand(4, 3, 96, 80, generator=generator, dtype=torch.float64)
    sr = hr + 0.1 * torch.randn(4, 3, 96, 80, generator=generator, dtype=torch.float64)
    sr_ema = hr + 0.1 * torch.randn(4, 3, 96, 80, generator=generator, dtype=torch.float64)
    return tuple(t.to(device, dtype) for t in (hr, sr, sr_ema))  # pyright: ignore[reportReturnType]


def _loss_and_grad(device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    hr, sr, sr_ema = _triplet(device, dtype)
    sr.requires_grad_()
    artifact_map = refined_artifact_map(hr, sr, sr_ema)
    loss = artifact_l1(hr, sr, sr_ema)
    loss.backward()
    assert sr.grad is not None
    return artifact_map.detach().double().cpu(), loss.detach().double().cpu(), sr.grad.double().cpu()


def test_cuda_equals_the_cpu_in_float64_and_is_deterministic() -> None:
    cuda = torch.device("cuda")
    expected = _loss_and_grad(torch.device("cpu"), torch.float64)
    first = _loss_and_grad(cuda, torch.float32)
    second = _loss_and_grad(cuda, torch.float32)
    for ours, reference in zip(first, expected, strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-7)
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("precision", [torch.bfloat16, torch.float16])
def test_autocast_does_not_lower_the_maps_precision(precision: torch.dtype) -> None:
    cuda = torch.device("cuda")
    hr, sr, sr_ema = _triplet(cuda, torch.float32)
    plain = artifact_l1(hr, sr, sr_ema)
    with torch.autocast("cuda", dtype=precision):
        autocast = artifact_l1(hr, sr, sr_ema)
    assert autocast.dtype == torch.float32
    assert torch.equal(plain, autocast)
