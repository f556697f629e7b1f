"""The artifact map of the LDL paper (Liang, Zeng, Zhang, CVPR 2022), computed from the ground truth.

R = Σ_c |hr − sr| is the residual; its unbiased variance over each window×window neighbourhood (reflect padding)
marks pixels whose error is *irregular* — artifacts, where a smooth error would be a fidelity loss. Multiplying by
var(R over the whole patch) ** exponent stabilises the scale across patches; where the EMA generator's residual is
larger than the current one, the current output is already the better of the two and the map is zeroed there.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional as F

DEFAULT_WINDOW = 7
DEFAULT_EXPONENT = 0.2


def local_variance(values: torch.Tensor, window: int = DEFAULT_WINDOW) -> torch.Tensor:
    """Unbiased variance of N×1×H×W ``values`` over each window×window neighbourhood (reflect-padded), same shape.

    Box filters (separable average pools) instead of unfolding every window. E[x²] − E[x]² runs in float32 on
    values centred on their sample mean, which keeps it within 1e-5 of the unfold form (tested) on every device.
    """
    if values.ndim != 4 or values.shape[1] != 1:
        raise ValueError(f"expected N×1×H×W residuals, got shape {tuple(values.shape)}")
    _check_window(window, values.shape)
    work = values if values.dtype == torch.float64 else values.float()
    # Centring on the sample mean removes most of the cancellation that remains (variance is shift-invariant).
    work = work - work.mean(dim=(-1, -2, -3), keepdim=True).detach()
    return _LocalVariance.apply(work, window).to(values.dtype)


def _check_window(window: int, shape: torch.Size) -> None:
    if window < 2 or window % 2 == 0:
        raise ValueError(f"the window must be an odd size of at least 3, not {window}")
    if min(shape[-2:]) <= window // 2:
        raise ValueError(f"a {window}×{window} window needs images larger than {window // 2} pixels, got {shape[-2:]}")


class _LocalVariance(torch.autograd.Function):
    """Box-filter local variance with a hand-written backward that keeps only the (centred) input: autograd's own
    would keep every intermediate map of the forward pass, several times the input in training."""

    @staticmethod
    def forward(ctx, centred: torch.Tensor, window: int) -> torch.Tensor:  # pyright: ignore[reportIncompatibleMethodOverride]
        ctx.save_for_backward(centred)
        ctx.window = window
        return _local_variance_of_centred(centred, window)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # pyright: ignore[reportIncompatibleMethodOverride]
        (centred,) = ctx.saved_tensors
        return _local_variance_backward(centred, grad, ctx.window), None


def _local_variance_of_centred(centred: torch.Tensor, window: int) -> torch.Tensor:
    padded = _reflect_pad(centred, window)
    mean = _box_mean(padded, window)
    variance = _box_mean(padded.square_(), window)  # in place: the padded copy is not needed again
    del padded
    return variance.sub_(mean.square_()).clamp_min_(0.0).mul_(_unbiased(window))


def _local_variance_backward(centred: torch.Tensor, grad: torch.Tensor, window: int) -> torch.Tensor:
    # v = c·(box(p²) − box(p)²) over p = reflect_pad(x): ∂L/∂p = boxᵀ(2c·g)·p − boxᵀ(2c·g·box(p)), where boxᵀ (the
    # adjoint of a valid box mean) is a box mean over the zero-padded gradient; reflect-pad's adjoint folds the
    # border back.
    padded = _reflect_pad(centred, window)
    weighted = grad * (2.0 * _unbiased(window))
    spread = _box_mean(F.pad(weighted, (window - 1,) * 4), window)
    mean_term = _box_mean(F.pad(weighted.mul_(_box_mean(padded, window)), (window - 1,) * 4), window)
    del weighted
    grad_padded = spread.mul_(padded).sub_(mean_term)
    return _reflect_pad_adjoint(grad_padded, window // 2)


class _RefinedArtifactMap(torch.autograd.Function):
    """The whole map as one operation that saves only its inputs and its output (which the caller holds anyway)
    and recomputes the residual in the backward pass. Autograd over the composed form would keep the N×C×H×W
    difference, its absolute value, the residual and the unrefined map alive until the backward pass: about 7×
    the map's size in training, where this keeps none of them."""

    @staticmethod
    def forward(  # pyright: ignore[reportIncompatibleMethodOverride]
        ctx, hr: torch.Tensor, sr: torch.Tensor, sr_ema: torch.Tensor | None, window: int, exponent: float
    ) -> torch.Tensor:
        ctx.window, ctx.exponent = window, exponent
        result = _map_of(_residual_statistics(hr, sr, sr_ema), window, exponent)
        result = result.to(torch.promote_types(hr.dtype, sr.dtype))
        ctx.save_for_backward(hr, sr, sr_ema, result)
        return result

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor, None, None, None]:  # pyright: ignore[reportIncompatibleMethodOverride]
        hr, sr, sr_ema, result = ctx.saved_tensors
        statistics = _residual_statistics(hr, sr, sr_ema)
        own_grad = grad.to(statistics.centred.dtype, copy=True)  # _map_backward scales it in place
        grad_residual = _map_backward(statistics, result, own_grad, ctx.window, ctx.exponent)
        return None, _residual_backward(hr, sr, grad_residual), None, None, None


class _ArtifactL1(torch.autograd.Function):
    """LDL's artifact term L1(M·SR, M·GT) = mean(M·Σ_c|SR − GT|)/C = mean(M·R)/C, as one operation: the map M is
    non-negative, so the loss needs only the residual R, and no N×C×H×W product is ever built. Its gradient
    reaches SR directly (M·sign(SR − GT)) and, unless ``detach_map``, through the map (with ∂loss/∂M = R/n)."""

    @staticmethod
    def forward(  # pyright: ignore[reportIncompatibleMethodOverride]
        ctx,
        hr: torch.Tensor,
        sr: torch.Tensor,
        sr_ema: torch.Tensor | None,
        window: int,
        exponent: float,
        detach_map: bool,
    ) -> torch.Tensor:
        ctx.window, ctx.exponent, ctx.detach_map = window, exponent, detach_map
        statistics = _residual_statistics(hr, sr, sr_ema)
        artifact_map = _map_of(statistics, window, exponent)
        # Σ M·R = Σ M·(centred + mean): the residual itself is never rebuilt.
        total = _dot_per_sample(artifact_map, statistics.centred) + statistics.mean * artifact_map.sum(
            dim=(-1, -2, -3), keepdim=True
        )
        ctx.save_for_backward(hr, sr, sr_ema, artifact_map)
        return (total.sum() / sr.numel()).to(torch.promote_types(hr.dtype, sr.dtype))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor, None, None, None, None]:  # pyright: ignore[reportIncompatibleMethodOverride]
        hr, sr, sr_ema, artifact_map = ctx.saved_tensors
        scale = grad.to(artifact_map.dtype) / sr.numel()
        grad_residual = artifact_map * scale  # the direct term: ∂/∂R of M·R/n with M held
        if not ctx.detach_map:
            statistics = _residual_statistics(hr, sr, sr_ema)
            grad_map = (statistics.centred + statistics.mean).mul_(scale)  # ∂loss/∂M = R/n
            grad_residual += _map_backward(statistics, artifact_map, grad_map, ctx.window, ctx.exponent)
        return None, _residual_backward(hr, sr, grad_residual), None, None, None, None


def _map_backward(
    statistics: _ResidualStatistics, artifact_map: torch.Tensor, grad: torch.Tensor, window: int, exponent: float
) -> torch.Tensor:
    """∂loss/∂R for the gradient ``grad`` of the map, given the forward pass's statistics and its output map.
    Consumes ``grad`` and ``statistics.centred`` (both are changed in place)."""
    centred, patch_variance, keep = statistics.centred, statistics.patch_variance, statistics.keep
    if keep is not None:  # the refinement is a constant mask: no gradient where it zeroes the map
        grad.mul_(keep)
    # map = w·V(R) with w = var(R)^e: ∂/∂R = w·Vᵀ(g) + e·var^(e−1)·Σ(g·V)·2(R − mean R)/(n − 1), where
    # Σ(g·V) = Σ(g·map)/w comes from the output instead of a second pass over the windows.
    weight = patch_variance**exponent
    has_weight = patch_variance > 0
    weighted_sum = _dot_per_sample(grad, artifact_map) / torch.where(has_weight, weight, 1.0)
    slope = torch.where(has_weight, exponent * patch_variance ** (exponent - 1), 0.0)
    count = centred.shape[-1] * centred.shape[-2]
    grad_residual = _local_variance_backward(centred, grad.mul_(weight), window)
    return grad_residual.add_(centred.mul_(slope * weighted_sum * (2.0 / (count - 1))))


def _residual_backward(hr: torch.Tensor, sr: torch.Tensor, grad_residual: torch.Tensor) -> torch.Tensor:
    """∂loss/∂sr from ∂loss/∂R for R = Σ_c |hr_c − sr_c| (∂R/∂sr_c = −sign(hr_c − sr_c)), a channel at a time."""
    grad_sr = torch.empty_like(sr)
    for channel in range(sr.shape[1]):
        difference = hr[:, channel : channel + 1].to(grad_residual.dtype) - sr[:, channel : channel + 1]
        grad_sr[:, channel : channel + 1] = difference.sign_().mul_(grad_residual).neg_()
    return grad_sr


def _dot_per_sample(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Σ over C, H, W of first·second per sample, N×1×1×1: one dot product per sample on the CPU (no image-sized
    product), one product and sum elsewhere (one kernel launch each instead of N)."""
    second = second.to(first.dtype)
    if first.device.type != "cpu":
        return (first * second).sum(dim=(-1, -2, -3), keepdim=True)
    dots = [torch.dot(a.flatten(), b.flatten()) for a, b in zip(first, second, strict=True)]
    return torch.stack(dots).view(-1, 1, 1, 1)


def _residual(hr: torch.Tensor, sr: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Σ_c |hr − sr|, N×1×H×W, accumulated a channel at a time (no N×C×H×W temporary)."""
    total = torch.zeros((hr.shape[0], 1, *hr.shape[2:]), dtype=dtype, device=hr.device)
    for channel in range(hr.shape[1]):
        total.add_((hr[:, channel : channel + 1].to(dtype) - sr[:, channel : channel + 1]).abs_())
    return total


class _ResidualStatistics(NamedTuple):
    """R = Σ_c |hr − sr| centred on each sample's mean (``centred``), that mean and R's unbiased variance over each
    sample (N×1×1×1), and where the refinement keeps the map (R not below the EMA output's), or None."""

    centred: torch.Tensor
    mean: torch.Tensor
    patch_variance: torch.Tensor
    keep: torch.Tensor | None


def _residual_statistics(hr: torch.Tensor, sr: torch.Tensor, sr_ema: torch.Tensor | None) -> _ResidualStatistics:
    dtype = torch.float64 if torch.float64 in (hr.dtype, sr.dtype) else torch.float32
    residual = _residual(hr, sr, dtype)
    keep = None if sr_ema is None else residual >= _residual(hr, sr_ema, dtype)
    # Centred in place: it removes most of the cancellation in E[x²] − E[x]² (variance is shift-invariant).
    mean = residual.mean(dim=(-1, -2, -3), keepdim=True)
    centred = residual.sub_(mean)
    count = centred.shape[-1] * centred.shape[-2]
    patch_variance = torch.linalg.vector_norm(centred, dim=(-1, -2, -3), keepdim=True).square_().div_(count - 1)
    return _ResidualStatistics(centred, mean, patch_variance, keep)


def _map_of(statistics: _ResidualStatistics, window: int, exponent: float) -> torch.Tensor:
    """The map of the statistics' residual, zeroed where the refinement drops it."""
    artifact_map = _local_variance_of_centred(statistics.centred, window).mul_(statistics.patch_variance**exponent)
    if statistics.keep is not None:
        artifact_map.masked_fill_(statistics.keep.logical_not(), 0.0)
    return artifact_map


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
    """Mean over each window×window block (valid positions): two 1-D window sums on the CPU, one pooling kernel
    elsewhere, where the slices' many small kernel launches would cost more than the arithmetic (GPUs)."""
    if values.device.type != "cpu":
        return F.avg_pool2d(values, window, stride=1)
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
    return _apply(_RefinedArtifactMap, hr, sr, sr_ema, window, exponent)


def artifact_l1(
    hr: torch.Tensor,
    sr: torch.Tensor,
    sr_ema: torch.Tensor | None = None,
    *,
    window: int = DEFAULT_WINDOW,
    exponent: float = DEFAULT_EXPONENT,
    detach_map: bool = False,
) -> torch.Tensor:
    """LDL's artifact loss term L1(M·sr, M·hr) with M = ``refined_artifact_map(hr, sr, sr_ema)``, mean over all
    N·C·H·W elements (a 0-d tensor), computed without any N×C×H×W temporary.

    The gradient reaches ``sr`` through both factors, as in LDL's released code, or only through ``sr`` with
    ``detach_map`` (the map as a constant weight). Same errors as ``refined_artifact_map``.
    """
    return _apply(_ArtifactL1, hr, sr, sr_ema, window, exponent, detach_map)


def _apply(
    operation: type[torch.autograd.Function],
    hr: torch.Tensor,
    sr: torch.Tensor,
    sr_ema: torch.Tensor | None,
    window: int,
    exponent: float,
    *options: bool,
) -> torch.Tensor:
    """Checks the inputs, then runs ``operation`` with ``hr`` and ``sr_ema`` as constants and autocast off: the
    map's sums and variances run in float32 (float64 for float64 inputs) whatever the step's mixed precision."""
    _check_map_inputs(hr, sr, sr_ema, window, exponent)
    ema = None if sr_ema is None else sr_ema.detach()
    with torch.autocast(hr.device.type, enabled=False):
        return operation.apply(hr.detach(), sr, ema, window, exponent, *options)


def _check_map_inputs(
    hr: torch.Tensor, sr: torch.Tensor, sr_ema: torch.Tensor | None, window: int, exponent: float
) -> None:
    if hr.shape != sr.shape or (sr_ema is not None and sr_ema.shape != sr.shape):
        shapes = [tuple(t.shape) for t in (hr, sr, sr_ema) if t is not None]
        raise ValueError(f"hr, sr (and sr_ema) must have the same N×C×H×W shape, got {shapes}")
    if hr.ndim != 4:
        raise ValueError(f"expected N×C×H×W tensors, got {hr.ndim} dimensions")
    if exponent <= 0:
        raise ValueError(f"the exponent must be positive, not {exponent}")
    _check_window(window, hr.shape)
