"""MATLAB-compatible ``imresize`` (bicubic), the resize that super-resolution benchmarks and BasicSR use.

Published LR images (Set5, DIV2K's bicubic track, LDL's test sets) were made with MATLAB's ``imresize``; NIQE
downsamples with it too. OpenCV's and Pillow's bicubic differ from it at the borders (they clip the kernel where
MATLAB mirrors the image) and, for OpenCV, in the missing antialiasing, so scores computed with them drift from the
published ones. The maths here follows MATLAB's documented algorithm:

- the cubic convolution kernel with a = −0.5 (Keys);
- output pixel ``i`` (1-based) samples the input at ``u = i / scale + (1 − 1 / scale) / 2``;
- when downscaling with antialiasing the kernel is stretched by ``1 / scale`` (and its height scaled by ``scale``);
- every row of weights is normalised to sum to 1;
- pixels outside the image are mirrored half-sample symmetrically (``-1 → 0``, ``n → n − 1``);
- the output size is ``ceil(input · scale)``.

The resize is separable: the weights and source indices are computed once per axis and applied as a sum over the
kernel taps (a few to a few dozen), each tap a vectorised gather over the whole image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ldl_backend.errors import LdlError

# Keys' cubic convolution parameter; MATLAB, BasicSR and Pillow's BICUBIC all use −0.5.
CUBIC_A = -0.5
# The un-stretched cubic kernel is non-zero on (−2, 2).
CUBIC_WIDTH = 4.0


class ResizeInputError(LdlError):
    """The image, scale or output size given to the MATLAB-style resize cannot be used."""

    code = "bad_resize_input"


@dataclass(frozen=True, eq=False)
class AxisWeights:
    """How one axis is resampled: ``output[i] = Σ_j weights[i, j] · input[indices[i, j]]``.

    ``indices`` (out_length × taps, int64) are already mirrored into ``[0, in_length)``; ``weights``
    (out_length × taps, float64) sum to 1 along each row.
    """

    indices: np.ndarray
    weights: np.ndarray


def cubic_kernel(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = −0.5, evaluated element-wise (float64)."""
    a = CUBIC_A
    t = np.abs(x)
    t2 = t * t
    t3 = t2 * t
    inner = (a + 2.0) * t3 - (a + 3.0) * t2 + 1.0
    outer = a * t3 - 5.0 * a * t2 + 8.0 * a * t - 4.0 * a
    return np.where(t <= 1.0, inner, np.where(t <= 2.0, outer, 0.0))


def _mirror(indices: np.ndarray, length: int) -> np.ndarray:
    """Fold 0-based indices into ``[0, length)`` by half-sample symmetric reflection, repeated as often as needed
    (a kernel wider than a tiny image reaches past the mirrored copy too)."""
    folded = np.mod(indices, 2 * length)
    return np.where(folded < length, folded, 2 * length - 1 - folded)


def axis_weights(in_length: int, out_length: int, scale: float, antialiasing: bool) -> AxisWeights:
    """The weights and mirrored source indices that resize one axis from ``in_length`` to ``out_length``."""
    stretch = antialiasing and scale < 1.0
    kernel_width = CUBIC_WIDTH / scale if stretch else CUBIC_WIDTH
    # 1-based coordinates, as in MATLAB, so that the centre formula reads as it does there.
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]
    distance = u[:, None] - indices
    weights = scale * cubic_kernel(distance * scale) if stretch else cubic_kernel(distance)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # The extra taps at either end are (almost always) zero for every output pixel; dropping them saves work.
    used = np.any(weights != 0.0, axis=0)
    weights = weights[:, used]
    source = _mirror(indices[:, used].astype(np.int64) - 1, in_length)
    return AxisWeights(indices=np.ascontiguousarray(source), weights=np.ascontiguousarray(weights))


def output_shape(
    in_size: tuple[int, int], scale: float | None, output_size: tuple[int, int] | None
) -> tuple[tuple[int, int], tuple[float, float]]:
    """The output (height, width) and the per-axis scale factors, validated."""
    if (scale is None) == (output_size is None):
        raise ResizeInputError(
            "give exactly one of scale and output_size", "pass scale=0.25 (for example) or output_size=(height, width)"
        )
    if scale is not None:
        if not (math.isfinite(scale) and scale > 0):
            raise ResizeInputError(f"the resize scale must be a positive number, got {scale}", "use e.g. 0.25 or 2")
        out = (math.ceil(in_size[0] * scale), math.ceil(in_size[1] * scale))
        return out, (float(scale), float(scale))
    assert output_size is not None  # narrowed by the check above
    if len(output_size) != 2 or any(int(n) != n or n < 1 for n in output_size):
        raise ResizeInputError(
            f"output_size must be two positive integers (height, width), got {output_size}",
            "pass output_size=(height, width)",
        )
    out = (int(output_size[0]), int(output_size[1]))
    return out, (out[0] / in_size[0], out[1] / in_size[1])


def _check_size(height: int, width: int) -> None:
    if height < 1 or width < 1:
        raise ResizeInputError(f"cannot resize an empty image ({height}×{width})", "pass an image with pixels")


def imresize(
    image: np.ndarray,
    scale: float | None = None,
    *,
    output_size: tuple[int, int] | None = None,
    antialiasing: bool = True,
) -> np.ndarray:
    """Resize an H×W or H×W×C float image like MATLAB's ``imresize(image, scale, 'bicubic')``.

    Give either ``scale`` (same factor for both axes; output ``ceil(H·scale) × ceil(W·scale)``) or
    ``output_size=(height, width)``. Values keep their range: nothing is clipped or rounded, so overshoot
    around edges is kept. Returns float32 for float32 input, float64 for float64 (and for other float types).

    Raises ResizeInputError for integer images (convert to float first), other shapes, or a bad scale/size.
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        shape = getattr(image, "shape", None)
        raise ResizeInputError(
            f"imresize takes an H×W or H×W×C numpy array, got shape {shape}", "use imresize_torch for tensors"
        )
    if not np.issubdtype(image.dtype, np.floating):
        raise ResizeInputError(
            f"imresize takes float pixels, got {image.dtype}",
            "convert first, e.g. image.astype(np.float32) / 255, and round the result back yourself if needed",
        )
    _check_size(image.shape[0], image.shape[1])
    dtype = np.float32 if image.dtype == np.float32 else np.float64
    pixels = image.astype(dtype, copy=False)
    (out_h, out_w), (scale_h, scale_w) = output_shape((image.shape[0], image.shape[1]), scale, output_size)
    rows = axis_weights(image.shape[0], out_h, scale_h, antialiasing)
    cols = axis_weights(image.shape[1], out_w, scale_w, antialiasing)
    return _apply_numpy(_apply_numpy(pixels, rows, axis=0), cols, axis=1)


def _apply_numpy(pixels: np.ndarray, axis_weights: AxisWeights, axis: int) -> np.ndarray:
    weights = axis_weights.weights.astype(pixels.dtype)
    # Shape the weight column so it broadcasts along ``axis`` only.
    view = [1] * pixels.ndim
    view[axis] = -1
    result: np.ndarray | None = None
    for tap in range(weights.shape[1]):
        term = np.take(pixels, axis_weights.indices[:, tap], axis=axis)
        term *= weights[:, tap].reshape(view)  # in place: the gathered copy is ours, and large outputs add up
        if result is None:
            result = term
        else:
            result += term
    assert result is not None  # every axis has at least one tap
    return result


def imresize_torch(
    tensor: torch.Tensor,
    scale: float | None = None,
    *,
    output_size: tuple[int, int] | None = None,
    antialiasing: bool = True,
) -> torch.Tensor:
    """The same resize as :func:`imresize` for a C×H×W or N×C×H×W float tensor, computed on its device and in its
    dtype (differentiable). Raises ResizeInputError for other shapes, integer tensors or a bad scale/size."""
    if tensor.ndim not in (3, 4):
        raise ResizeInputError(
            f"imresize_torch takes a C×H×W or N×C×H×W tensor, got shape {tuple(tensor.shape)}",
            "add a channel dimension with tensor.unsqueeze(0) for a single-channel H×W image",
        )
    if not tensor.is_floating_point():
        raise ResizeInputError(
            f"imresize_torch takes float pixels, got {tensor.dtype}", "convert first, e.g. tensor.float() / 255"
        )
    height, width = tensor.shape[-2], tensor.shape[-1]
    _check_size(height, width)
    (out_h, out_w), (scale_h, scale_w) = output_shape((height, width), scale, output_size)
    rows = axis_weights(height, out_h, scale_h, antialiasing)
    cols = axis_weights(width, out_w, scale_w, antialiasing)
    return _apply_torch(_apply_torch(tensor, rows, dim=-2), cols, dim=-1)


def _apply_torch(tensor: torch.Tensor, axis_weights: AxisWeights, dim: int) -> torch.Tensor:
    indices = torch.from_numpy(axis_weights.indices).to(tensor.device)
    weights = torch.from_numpy(axis_weights.weights).to(device=tensor.device, dtype=tensor.dtype)
    view = [1] * tensor.ndim
    view[dim] = -1
    result: torch.Tensor | None = None
    for tap in range(weights.shape[1]):
        term = tensor.index_select(dim, indices[:, tap]) * weights[:, tap].reshape(view)
        result = term if result is None else result + term
    assert result is not None  # every axis has at least one tap
    return result


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop an H×W or H×W×C image at the bottom and right so both sides are multiples of ``scale`` (a view)."""
    if int(scale) != scale or scale < 1:
        raise ResizeInputError(f"the modcrop scale must be a positive integer, got {scale}", "use 2, 3 or 4")
    if image.ndim not in (2, 3):
        raise ResizeInputError(
            f"modcrop takes an H×W or H×W×C image, got shape {image.shape}", "pass one image, height first"
        )
    height = image.shape[0] - image.shape[0] % scale
    width = image.shape[1] - image.shape[1] % scale
    if height == 0 or width == 0:
        raise ResizeInputError(
            f"a {image.shape[0]}×{image.shape[1]} image is smaller than the scale {scale}",
            f"use an image at least {scale}×{scale} pixels",
        )
    return image[:height, :width, ...]


def bicubic_degrade(hr: np.ndarray, scale: int) -> np.ndarray:
    """The benchmark LR image of a float HR image: modcrop to a multiple of ``scale``, then MATLAB bicubic
    ``×1/scale`` with antialiasing. Float in, float out (same dtype rule as :func:`imresize`), not rounded."""
    return imresize(modcrop(hr, scale), 1.0 / scale)
