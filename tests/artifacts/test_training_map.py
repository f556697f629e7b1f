"""The training-form artifact map: a hand-computed case, the refinement, box filters == unfold, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from ldl_backend.artifacts import artifact_l1, local_variance, refined_artifact_map
from ldl_backend.artifacts.training_map import _reflect_pad_adjoint  # pyright: ignore[reportPrivateUsage]


def unfold_local_variance(values: torch.Tensor, window: int) -> torch.Tensor:
    """The paper's formulation, written out: unfold every window and take its unbiased variance."""
    pad = window // 2
    padded = F.pad(values, (pad, pad, pad, pad), mode="reflect")
    windows = padded.unfold(2, window, 1).unfold(3, window, 1)
    return windows.var(dim=(-1, -2), unbiased=True)


def test_hand_computed_nine_by_nine() -> None:
    # Residual: a single 3 in a 9×9 field of zeros (one channel of 3, the others exact).
    hr = torch.zeros(1, 3, 9, 9)
    sr = hr.clone()
    sr[0, 0, 4, 4] = 3.0
    result = refined_artifact_map(hr, sr, window=3, exponent=0.2)[0, 0]
    patch_variance = (9 - 81 * (3 / 81) ** 2) / 80  # Σx² = 9, mean 3/81, unbiased over 81 values
    in_window = (9 - 9 * (3 / 9) ** 2) / 8  # any 3×3 window that holds the 3
    expected = np.zeros((9, 9))
    expected[3:6, 3:6] = in_window * patch_variance**0.2
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_reflect_padding_at_the_border() -> None:
    hr = torch.zeros(1, 1, 9, 9)
    sr = hr.clone()
    sr[0, 0, 0, 0] = 1.0
    local = local_variance((hr - sr).abs(), 3)[0, 0]
    # Reflect padding does not repeat the edge pixel: the corner's window holds the 1 once.
    assert local[0, 0].item() == pytest.approx((1 - 9 * (1 / 9) ** 2) / 8)
    assert local[2, 2].item() == 0.0


def test_refinement_zeroes_where_the_ema_is_worse() -> None:
    generator = torch.Generator().manual_seed(0)
    hr = torch.rand(2, 3, 16, 16, generator=generator)
    sr = hr + 0.1 * torch.randn(2, 3, 16, 16, generator=generator)
    sr_ema = hr + 0.1 * torch.randn(2, 3, 16, 16, generator=generator)
    unrefined = refined_artifact_map(hr, sr)
    refined = refined_artifact_map(hr, sr, sr_ema)
    worse = (hr - sr).abs().sum(1, keepdim=True) < (hr - sr_ema).abs().sum(1, keepdim=True)
    assert worse.any() and (~worse).any()
    assert torch.all(refined[worse] == 0)
    assert torch.equal(refined[~worse], unrefined[~worse])


def test_the_ema_equal_to_the_generator_keeps_the_whole_map() -> None:
    # As at the first training step: sr_ema == sr ties everywhere, and a tie keeps the map (R ≥ R_ema); a strict
    # comparison would zero the map and the artifact term with it.
    generator = torch.Generator().manual_seed(5)
    hr = torch.rand(2, 3, 12, 12, generator=generator)
    sr = hr + 0.1 * torch.randn(2, 3, 12, 12, generator=generator)
    unrefined = refined_artifact_map(hr, sr)
    assert (unrefined > 0).float().mean() > 0.9
    assert torch.equal(refined_artifact_map(hr, sr, sr.clone()), unrefined)
    assert torch.equal(artifact_l1(hr, sr, sr.clone()), artifact_l1(hr, sr)) and artifact_l1(hr, sr) > 0


def test_exact_ties_keep_the_map_and_only_a_worse_ema_zeroes_it() -> None:
    # Multiples of 1/8 make every residual exact: where the EMA's error mirrors G's it ties exactly.
    generator = torch.Generator().manual_seed(6)
    hr = torch.randint(8, 24, (1, 3, 10, 10), generator=generator).float() / 32
    error = torch.randint(1, 4, (1, 3, 10, 10), generator=generator).float() / 8
    sr = hr + error
    region = torch.zeros(1, 1, 10, 10, dtype=torch.long)
    region[..., 3:7] = 1  # the EMA better (smaller error): G's map kept
    region[..., 7:] = 2  # the EMA worse: zeroed
    factor = torch.tensor([-1.0, 0.5, 2.0])[region]  # columns 0-2: the mirror image of G's error, a tie
    sr_ema = hr + error * factor
    refined = refined_artifact_map(hr, sr, sr_ema)
    unrefined = refined_artifact_map(hr, sr)
    kept = region < 2
    assert torch.all(unrefined[kept] > 0)
    assert torch.equal(refined[kept], unrefined[kept])
    assert torch.all(refined[~kept] == 0)


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(8, 40),
    width=st.integers(8, 40),
    window=st.sampled_from([3, 5, 7]),
    offset=st.floats(0, 100),
    seed=st.integers(0, 2**16),
)
def test_box_filters_equal_the_unfold_formulation(height: int, width: int, window: int, offset: float, seed: int):
    generator = torch.Generator().manual_seed(seed)
    values = offset + torch.rand(2, 1, height, width, generator=generator) ** 3
    expected = unfold_local_variance(values.double(), window)
    result = local_variance(values, window).double()
    assert torch.allclose(result, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()) + 1e-12)


def test_gradient_flows_to_sr_only() -> None:
    generator = torch.Generator().manual_seed(1)
    hr = torch.rand(1, 3, 12, 12, generator=generator, requires_grad=True)
    sr = (hr.detach() + 0.2 * torch.rand(1, 3, 12, 12, generator=generator)).requires_grad_()
    sr_ema = (hr.detach() + 0.3 * torch.rand(1, 3, 12, 12, generator=generator)).requires_grad_()
    refined_artifact_map(hr, sr, sr_ema).sum().backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert hr.grad is None and sr_ema.grad is None


@pytest.mark.parametrize(
    ("shapes", "window", "exponent", "message"),
    [
        (((1, 3, 8, 8), (1, 3, 8, 9)), 7, 0.2, "same"),
        (((1, 3, 8, 8), (1, 3, 8, 8)), 4, 0.2, "odd"),
        (((1, 3, 8, 8), (1, 3, 8, 8)), 7, 0.0, "exponent"),
        (((3, 8, 8), (3, 8, 8)), 7, 0.2, "N×C×H×W"),
        (((1, 3, 3, 3), (1, 3, 3, 3)), 7, 0.2, "larger"),
    ],
)
def test_bad_parameters_are_explained(shapes, window: int, exponent: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        refined_artifact_map(torch.zeros(shapes[0]), torch.zeros(shapes[1]), window=window, exponent=exponent)


def test_hand_written_backward_matches_autograd_of_the_unfold_form() -> None:
    generator = torch.Generator().manual_seed(3)
    values = torch.rand(2, 1, 11, 13, generator=generator, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(2, 1, 11, 13, generator=generator, dtype=torch.float64)
    (local_variance(values, 5) * weights).sum().backward()
    ours = values.grad
    values.grad = None
    (unfold_local_variance(values, 5) * weights).sum().backward()
    assert ours is not None and values.grad is not None
    torch.testing.assert_close(ours, values.grad, rtol=1e-9, atol=1e-12)
    assert torch.autograd.gradcheck(lambda v: local_variance(v, 3), (values.detach()[:1, :, :6, :7].requires_grad_(),))


@settings(max_examples=30, deadline=None)
@given(height=st.integers(2, 12), width=st.integers(2, 12), pad=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_the_reflect_pad_adjoint_equals_pytorchs(height: int, width: int, pad: int, seed: int) -> None:
    """The hand-written (deterministic) gradient of reflect padding equals PyTorch's own."""
    assume(pad < min(height, width))
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(2, 1, height, width, dtype=torch.float64, generator=generator)
    grad = torch.randn(2, 1, height + 2 * pad, width + 2 * pad, dtype=torch.float64, generator=generator)
    expected = torch.ops.aten.reflection_pad2d_backward(grad, values, [pad] * 4)
    torch.testing.assert_close(_reflect_pad_adjoint(grad, pad), expected, atol=1e-12, rtol=0)


def test_the_whole_maps_backward_passes_gradcheck() -> None:
    # The map's hand-written backward (residual, patch weight, local variance, refinement) against finite
    # differences; the patch-weight term alone would be missed by a check of the local variance.
    generator = torch.Generator().manual_seed(4)
    hr = torch.rand(2, 3, 6, 7, generator=generator, dtype=torch.float64)
    sr = (hr + 0.3 * torch.randn(2, 3, 6, 7, generator=generator, dtype=torch.float64)).requires_grad_()
    sr_ema = hr + 0.3 * torch.randn(2, 3, 6, 7, generator=generator, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda s: refined_artifact_map(hr, s, sr_ema, window=3), (sr,))
    assert torch.autograd.gradcheck(lambda s: refined_artifact_map(hr, s, window=5, exponent=0.5), (sr,))
