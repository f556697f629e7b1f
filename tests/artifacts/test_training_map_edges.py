"""The training map and its L1 term at their edges: the loss equals its formula per sample, in float32 and float64,
under autocast, with and without the EMA; half inputs give the float32 result rounded once, and float32 inputs never
compute in float64; gradients of both forms pass gradcheck; the checks refuse exactly what they must. With
tests/artifacts/test_training_map.py and tests/training/test_losses.py, the mutation run's test set for
``ldl_backend/artifacts/training_map.py`` and ``ldl_backend/training/losses.py``."""

from __future__ import annotations

import re

import pytest
import torch
from torch.overrides import TorchFunctionMode

from ldl_backend.artifacts import artifact_l1, local_variance, refined_artifact_map


def images(dtype: torch.dtype = torch.float32, size: tuple[int, int] = (9, 11), seed: int = 0):
    """hr, sr, sr_ema: two samples that differ in scale (so a sum over the batch is not a sum per sample)."""
    generator = torch.Generator().manual_seed(seed)
    shape = (2, 3, *size)
    hr = torch.rand(shape, generator=generator, dtype=torch.float64)
    sr = hr + torch.randn(shape, generator=generator, dtype=torch.float64) * torch.tensor([0.05, 0.3]).view(2, 1, 1, 1)
    sr_ema = hr + 0.15 * torch.randn(shape, generator=generator, dtype=torch.float64)
    return hr.to(dtype), sr.to(dtype), sr_ema.to(dtype)


def formula(hr: torch.Tensor, sr: torch.Tensor, sr_ema: torch.Tensor | None) -> torch.Tensor:
    """L1(M·sr, M·hr), mean over N·C·H·W, written out in float64."""
    artifact_map = refined_artifact_map(hr.double(), sr.double(), None if sr_ema is None else sr_ema.double())
    return (artifact_map * (sr.double() - hr.double()).abs()).mean()


@pytest.mark.parametrize("with_ema", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_loss_is_its_formula(dtype: torch.dtype, with_ema: bool) -> None:
    hr, sr, sr_ema = images(dtype)
    ema = sr_ema if with_ema else None
    loss = artifact_l1(hr, sr, ema)
    assert loss.dtype == dtype and loss.shape == ()
    torch.testing.assert_close(
        loss.double(), formula(hr, sr, ema), rtol=1e-5 if dtype == torch.float32 else 1e-12, atol=0
    )
    if with_ema:  # the refinement changes the value (part of the map is zeroed)
        assert loss < artifact_l1(hr, sr)


def test_the_map_and_loss_keep_the_input_dtype() -> None:
    for dtype in (torch.float32, torch.float64):
        hr, sr, sr_ema = images(dtype)
        assert refined_artifact_map(hr, sr, sr_ema).dtype == dtype
        assert local_variance((hr - sr).abs().sum(1, keepdim=True)).dtype == dtype
    hr, sr, _ = images(torch.float64)
    assert artifact_l1(hr.float(), sr).dtype == torch.float64  # promoted, as the formula would be
    assert refined_artifact_map(hr.float(), sr).dtype == torch.float64


def test_autocast_does_not_reach_the_map() -> None:
    hr, sr, sr_ema = images()
    plain = artifact_l1(hr, sr, sr_ema)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(artifact_l1(hr, sr, sr_ema), plain)
        assert torch.equal(refined_artifact_map(hr, sr, sr_ema), refined_artifact_map(hr, sr, sr_ema).float())


def test_the_losss_gradient_passes_gradcheck() -> None:
    hr, sr, sr_ema = images(torch.float64, size=(3, 4), seed=1)  # small: gradcheck perturbs every input
    sr.requires_grad_()
    assert torch.autograd.gradcheck(lambda s: artifact_l1(hr, s, sr_ema, window=3), (sr,), fast_mode=True)
    assert torch.autograd.gradcheck(lambda s: artifact_l1(hr, s, window=5, exponent=0.5), (sr,), fast_mode=True)


@pytest.mark.parametrize("with_ema", [False, True])
def test_a_detached_maps_gradient_is_the_map_times_the_sign(with_ema: bool) -> None:
    hr, sr, sr_ema = images(torch.float64, seed=3)
    ema = sr_ema if with_ema else None
    leaf = sr.clone().requires_grad_()
    artifact_l1(hr, leaf, ema, window=5, detach_map=True).backward()
    expected = refined_artifact_map(hr, sr, ema, window=5) * (sr - hr).sign() / sr.numel()
    assert leaf.grad is not None
    torch.testing.assert_close(leaf.grad, expected, rtol=1e-12, atol=1e-15)


def test_the_map_carries_gradient_unless_detached() -> None:
    # The released code differentiates through the map; detach_map=False is the default.
    hr, sr, sr_ema = images(torch.float64, seed=2)
    grads = []
    for detach in (None, True):
        leaf = sr.clone().requires_grad_()
        loss = artifact_l1(hr, leaf, sr_ema) if detach is None else artifact_l1(hr, leaf, sr_ema, detach_map=detach)
        loss.backward()
        assert leaf.grad is not None
        grads.append(leaf.grad)
    assert not torch.allclose(grads[0], grads[1])


def test_a_flat_residual_has_a_zero_map_and_a_finite_gradient() -> None:
    # var(R) = 0: the patch weight is 0 and its slope, 0^(e−1), must not turn into inf·0 = NaN.
    hr = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    sr = (hr + 0.5).requires_grad_()
    assert torch.equal(refined_artifact_map(hr, sr), torch.zeros(1, 1, 8, 8, dtype=torch.float64))
    artifact_l1(hr, sr).backward()
    assert sr.grad is not None and torch.isfinite(sr.grad).all()


def test_the_ema_shape_is_checked() -> None:
    hr, sr, sr_ema = images()
    with pytest.raises(
        ValueError, match="same N×C×H×W shape, got \\[\\(2, 3, 9, 11\\), \\(2, 3, 9, 11\\), \\(2, 3, 9, 10\\)\\]"
    ):
        artifact_l1(hr, sr, sr_ema[..., :10])


@pytest.mark.parametrize(("window", "side", "ok"), [(3, 2, True), (3, 1, False), (5, 3, True), (5, 2, False)])
def test_the_window_needs_more_than_half_its_size(window: int, side: int, ok: bool) -> None:
    values = torch.rand(1, 1, side, 9)
    if ok:
        assert local_variance(values, window).shape == values.shape
        assert local_variance(values.transpose(-1, -2), window).shape == (1, 1, 9, side)
    else:
        with pytest.raises(
            ValueError, match=f"a {window}×{window} window needs images larger than {window // 2} pixels"
        ):
            local_variance(values, window)
        with pytest.raises(ValueError, match=f"larger than {window // 2} pixels, got torch.Size\\(\\[9, {side}\\]\\)"):
            local_variance(values.transpose(-1, -2), window)


@pytest.mark.parametrize("window", [1, 2, 4, 0, -3])
def test_windows_must_be_odd_and_at_least_three(window: int) -> None:
    with pytest.raises(ValueError, match=f"odd size of at least 3, not {window}"):
        local_variance(torch.rand(1, 1, 9, 9), window)


@pytest.mark.parametrize("shape", [(1, 2, 9, 9), (1, 9, 9), (2, 1, 1, 9, 9)])
def test_local_variance_takes_single_channel_batches_only(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=re.escape(f"expected N×1×H×W residuals, got shape {tuple(shape)}")):
        local_variance(torch.rand(shape))


def test_local_variance_is_per_sample_and_shift_invariant() -> None:
    values = torch.rand(2, 1, 7, 9, dtype=torch.float64)
    shifted = values + torch.tensor([0.0, 1000.0], dtype=torch.float64).view(2, 1, 1, 1)
    torch.testing.assert_close(local_variance(shifted), local_variance(values), rtol=1e-9, atol=1e-9)


def test_local_variance_centres_each_sample_on_its_own_mean() -> None:
    # In float32, E[x²] − E[x]² loses everything to cancellation unless each sample is centred on its own mean: a
    # shared centre leaves the second sample 5000 away from its values.
    generator = torch.Generator().manual_seed(4)
    values = torch.rand(2, 1, 9, 9, generator=generator, dtype=torch.float64)
    values = (values + torch.tensor([0.0, 10_000.0], dtype=torch.float64).view(2, 1, 1, 1)).float()
    expected = local_variance(values.double())
    torch.testing.assert_close(local_variance(values).double(), expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_inputs_keep_their_dtype_and_are_computed_in_float32(dtype: torch.dtype) -> None:
    # Computed in float32 and rounded once at the end: exactly the float32 result of the same values, rounded. In
    # half precision the residual, the window sums and the gradient's differences would round at every step.
    hr, sr, sr_ema = (t.to(dtype) for t in images(torch.float32))
    wide = [t.float() for t in (hr, sr, sr_ema)]  # the same values in float32
    residual = (wide[0] - wide[1]).abs().sum(1, keepdim=True).to(dtype)
    local = local_variance(residual)
    assert local.dtype == dtype
    assert torch.equal(local, local_variance(residual.float()).to(dtype))
    artifact_map = refined_artifact_map(hr, sr, sr_ema)
    assert artifact_map.dtype == dtype
    assert torch.equal(artifact_map, refined_artifact_map(*wide).to(dtype))
    leaf, reference = sr.clone().requires_grad_(), wide[1].clone().requires_grad_()
    loss = artifact_l1(hr, leaf, sr_ema)
    assert loss.dtype == dtype
    assert torch.equal(loss, artifact_l1(wide[0], reference, wide[2]).to(dtype))
    loss.backward()
    artifact_l1(wide[0], reference, wide[2]).backward()
    assert leaf.grad is not None and reference.grad is not None and leaf.grad.dtype == dtype
    assert torch.equal(leaf.grad, reference.grad.to(dtype))
    # The map's backward reuses its half-precision output for the patch weight's term: that rounding moves about
    # one element in a hundred; a gradient computed in half precision would differ in about half of them.
    leaf, reference = sr.clone().requires_grad_(), wide[1].clone().requires_grad_()
    refined_artifact_map(hr, leaf, sr_ema).sum().backward()
    refined_artifact_map(wide[0], reference, wide[2]).sum().backward()
    assert leaf.grad is not None and reference.grad is not None and leaf.grad.dtype == dtype
    torch.testing.assert_close(leaf.grad.float(), reference.grad, rtol=1e-2, atol=1e-3)
    assert (leaf.grad != reference.grad.to(dtype)).float().mean() < 0.05


class _Dtypes(TorchFunctionMode):
    """Records the dtype of every tensor that a torch function returns."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[torch.dtype] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for value in result if isinstance(result, tuple | list) else (result,):
            if isinstance(value, torch.Tensor):
                self.seen.add(value.dtype)
        return result


def test_float32_inputs_never_compute_in_float64() -> None:
    # float64 is only for float64 inputs: it is slower on the CPU and many times slower on most GPUs.
    hr, sr, sr_ema = images(torch.float32)
    sr.requires_grad_()
    with _Dtypes() as recorder:
        artifact_l1(hr, sr, sr_ema).backward()
        refined_artifact_map(hr, sr, sr_ema).sum().backward()
        local_variance((hr - sr).abs().sum(1, keepdim=True))
    assert torch.float32 in recorder.seen and torch.float64 not in recorder.seen


def test_float64_ties_stay_exact() -> None:
    # The EMA's residual is computed in the same precision as G's: rounded to float32, a tie would break.
    hr, sr, _ = images(torch.float64, seed=5)
    assert torch.equal(refined_artifact_map(hr, sr, sr.clone()), refined_artifact_map(hr, sr))


def test_images_with_fewer_rows_than_channels() -> None:
    # H = 2 < C = 3: a loop over the wrong axis would miss a channel.
    hr, sr, sr_ema = images(torch.float64, size=(2, 5), seed=6)
    sr.requires_grad_()
    assert torch.autograd.gradcheck(lambda s: artifact_l1(hr, s, sr_ema, window=3), (sr,), fast_mode=True)
    assert torch.autograd.gradcheck(lambda s: refined_artifact_map(hr, s, sr_ema, window=3), (sr,), fast_mode=True)
