"""The artifact map of the LDL paper (Liang, Zeng, Zhang, CVPR 2022), computed from the ground truth.

R = Σ_c |hr − sr| is the residual; its unbiased variance over each window×window neighbourhood (reflect padding)
marks pixels whose error is *irregular* — artifacts, where a smooth error would be a fidelity loss. Multiplying by
var(R over the whole patch) ** exponent stabilises the scale across patches; where the EMA generator's residual is
larger than the current one, the current output is already the better of the two and the map is zeroed there.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

DEFAULT_WINDOW = 7
DEFAULT_EXPONENT = 0.2


def local_variance(values: torch.Tensor, window: int = DEFAULT_WINDOW) -> torch.Tensor:
    """Unbiased variance of N×1×H×W ``values`` over each window×window neighbourhood (reflect-padded), same shape.

    Box filters (separable average pools) instead of unfolding every window. E[x²] − E[x]² runs in float32 on
    values centred on their sample mean, which keeps it within 1e-5 of the unfold form (tested) on every device.
    """
    if window < 2 or window % 2 == 0:
        raise ValueError(f"the window must be an odd size of at least 3, not {window}")
    if values.ndim != 4 or values.shape[1] != 1:
        raise ValueError(f"expected N×1×H×W residuals, got shape {tuple(values.shape)}")
    pad = window // 2
    if min(values.shape[-2:]) <= pad:
        raise ValueError(f"a {window}×{window} window needs images larger than {pad} pixels, got {values.shape[-2:]}")
    work = values if values.dtype == torch.float64 else values.float()
    # Centring on the sample mean removes most of the cancellation that remains (variance is shift-invariant).
    work = work - work.mean(dim=(-1, -2, -3), keepdim=True).detach()
    return _LocalVariance.apply(work, window).to(values.dtype)


class _LocalVariance(torch.autograd.Function):
    """Box-filter local variance with a hand-written backward that keeps only the (centred) input: autograd's own
    would keep every intermediate map of the forward pass, several times the input in training."""

    @staticmethod
    def forward(ctx, centred: torch.Tensor, window: int) -> torch.Tensor:  # pyright: ignore[reportIncompatibleMethodOverride]
        ctx.save_for_backward(centred)
        ctx.window = window
        padded = _reflect_pad(centred, window)
        mean = _box_mean(padded, window)
        variance = _box_mean(padded.square_(), window)  # in place: the padded copy is not needed again
        del padded
        return variance.sub_(mean.square_()).clamp_min_(0.0).mul_(_unbiased(window))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # pyright: ignore[reportIncompatibleMethodOverride]
        # v = c·(box(p²) − box(p)²) over p = reflect_pad(x): ∂L/∂p = boxᵀ(2c·g)·p − boxᵀ(2c·g·box(p)), where boxᵀ
        # (the adjoint of a valid box mean) is a box mean over the zero-padded gradient; reflect-pad's adjoint
        # folds the border back.
        (centred,) = ctx.saved_tensors
        window = ctx.window
        padded = _reflect_pad(centred, window)
        weighted = grad * (2.0 * _unbiased(window))
        spread = _box_mean(F.pad(weighted, (window - 1,) * 4), window)
        mean_term = _box_mean(F.pad(weighted * _box_mean(padded, window), (window - 1,) * 4), window)
        grad_padded = spread.mul_(padded).sub_(mean_term)
        return _reflect_pad_adjoint(grad_padded, window // 2), None


def _reflect_pad(values: torch.Tensor, window: int) -> torch.Tensor:
    pad = window // 2
    return F.pad(values, (pad, pad, pad, pad), mode="reflect")


def _reflect_pad_adjoint(grad: torch.Tensor, pad: int) -> torch.Tensor:
    """The gradient of ``F.pad(x, (pad,) * 4, mode="reflect")`` with respect to ``x``: each padded row and column is
    added back onto the pixel it mirrors. Written out because CUDA's own (atomic adds) is not deterministic, which
    exact resumes of training need."""
    rows = grad[..., pad:-pad, :].clone()
    rows[..., 1 : pad + 1, :] += grad[..., :pad, :].flip(-2)
    rows[..., -pad - 1 : -1, :] += grad[..., -pad:, :].flip(-2)
    result = rows[..., pad:-pad].clone()
    result[..., 1 : pad + 1] += rows[..., :pad].flip(-1)
    result[..., -pad - 1 : -1] += rows[..., -pad:].flip(-1)
    return result


def _unbiased(window: int) -> float:
    count = window * window
    return count / (count - 1)


def _box_mean(values: torch.Tensor, window: int) -> torch.Tensor:
    """Mean over each window×window block (valid positions), as two 1-D window sums."""
    return _window_sum(_window_sum(values, window, -2), window, -1).mul_(1.0 / (window * window))


def _window_sum(values: torch.Tensor, window: int, dim: int) -> torch.Tensor:
    """Sums of ``window`` consecutive values along ``dim`` (valid positions): the window's shifted slices added
    into one output, so nothing but the output is allocated. About 10× faster on the CPU than ``avg_pool2d`` on a
    single-channel map, which does not vectorise there."""
    count = values.shape[dim] - window + 1
    total = values.narrow(dim, 0, count).clone()
    for shift in range(1, window):
        total.add_(values.narrow(dim, shift, count))
    return total


def refined_artifact_map(
    hr: torch.Tensor,
    sr: torch.Tensor,
    sr_ema: torch.Tensor | None = None,
    *,
    window: int = DEFAULT_WINDOW,
    exponent: float = DEFAULT_EXPONENT,
) -> torch.Tensor:
    """LDL's artifact map, N×1×H×W, for N×C×H×W ``hr`` (ground truth), ``sr`` (the generator's output) and
    optionally ``sr_ema`` (the EMA generator's output); without ``sr_ema`` the unrefined map.

    Gradients flow to ``sr`` only (``hr`` and ``sr_ema`` are treated as constants), as in LDL's training, where
    the map multiplies an L1 loss on the output. Raises ``ValueError`` for mismatched shapes or bad parameters.
    """
    if hr.shape != sr.shape or (sr_ema is not None and sr_ema.shape != sr.shape):
        shapes = [tuple(t.shape) for t in (hr, sr, sr_ema) if t is not None]
        raise ValueError(f"hr, sr (and sr_ema) must have the same N×C×H×W shape, got {shapes}")
    if hr.ndim != 4:
        raise ValueError(f"expected N×C×H×W tensors, got {hr.ndim} dimensions")
    if exponent <= 0:
        raise ValueError(f"the exponent must be positive, not {exponent}")
    hr = hr.detach()
    residual = (hr - sr).abs().sum(dim=1, keepdim=True)
    patch_weight = residual.var(dim=(-1, -2, -3), keepdim=True) ** exponent
    artifact_map = patch_weight * local_variance(residual, window)
    if sr_ema is not None:
        ema_residual = (hr - sr_ema.detach()).abs().sum(dim=1, keepdim=True)
        artifact_map = artifact_map.masked_fill(residual < ema_residual, 0.0)
    return artifact_map
