"""Blur kernels of Real-ESRGAN's degradation model, how they are sampled, and per-sample blurring.

Kernels are point-symmetric (k(-x) = k(x)), so PyTorch's cross-correlation equals convolution. Every kernel
is odd-sized, sums to 1 and comes with the parameters that made it (:class:`BlurKernel`), so tests and
training logs can check what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import torch
import torch.nn.functional as F

from ldl_backend.errors import LdlError


class DegradationConfigError(LdlError, ValueError):
    """A degradation setting is out of range (also a ValueError, as configuration errors are)."""

    code = "bad_degradation_config"


def check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise DegradationConfigError(f"{name} is {value}, not a probability", "use a value between 0 and 1")


def check_range(name: str, bounds: tuple[float, float], low: float = -math.inf, high: float = math.inf) -> None:
    """``bounds`` must be (lo, hi) with ``low <= lo <= hi <= high``."""
    if len(bounds) != 2 or not bounds[0] <= bounds[1]:
        raise DegradationConfigError(f"{name} is {bounds}, not a (low, high) pair", "write it as (low, high)")
    if bounds[0] < low or bounds[1] > high:
        raise DegradationConfigError(f"{name} is {bounds}, outside [{low}, {high}]", f"keep it within [{low}, {high}]")


def check_distribution(name: str, probabilities: Sequence[float], count: int) -> None:
    if len(probabilities) != count:
        raise DegradationConfigError(
            f"{name} has {len(probabilities)} probabilities for {count} choices", "give one probability per choice"
        )
    for p in probabilities:
        check_probability(name, p)
    if not math.isclose(sum(probabilities), 1.0, abs_tol=1e-6):
        raise DegradationConfigError(f"{name} sums to {sum(probabilities)}, not 1", "make the probabilities sum to 1")


class KernelKind(str, Enum):
    """Kernel families, named as in Real-ESRGAN's ``kernel_list``."""

    ISO = "iso"
    ANISO = "aniso"
    GENERALIZED_ISO = "generalized_iso"
    GENERALIZED_ANISO = "generalized_aniso"
    PLATEAU_ISO = "plateau_iso"
    PLATEAU_ANISO = "plateau_aniso"
    SINC = "sinc"

    @property
    def isotropic(self) -> bool:
        return self in (KernelKind.ISO, KernelKind.GENERALIZED_ISO, KernelKind.PLATEAU_ISO)


MIXED_KINDS = (
    KernelKind.ISO,
    KernelKind.ANISO,
    KernelKind.GENERALIZED_ISO,
    KernelKind.GENERALIZED_ANISO,
    KernelKind.PLATEAU_ISO,
    KernelKind.PLATEAU_ANISO,
)


@dataclass(frozen=True, eq=False)
class BlurKernel:
    """A kernel and the parameters that made it. Unused parameters are None (sigma/theta for sinc; beta for
    plain Gaussians; cutoff for everything but sinc). ``weights`` is size×size float64 summing to 1."""

    kind: KernelKind
    size: int
    weights: np.ndarray = field(repr=False)
    sigma_x: float | None = None
    sigma_y: float | None = None
    theta: float | None = None
    beta: float | None = None
    cutoff: float | None = None


@dataclass(frozen=True)
class BlurSettings:
    """How one stage draws its blur kernel. Defaults: the first stage of LDL's real-world config.

    Kernel sizes are odd and uniform in ``size_range``; with ``sinc_prob`` the kernel is a sinc whose cutoff
    (radians) is drawn from ``sinc_cutoff_small`` for sizes below ``small_size`` and ``sinc_cutoff`` otherwise
    (Real-ESRGAN keeps small sinc kernels from cutting too low); else a kind is drawn with ``kind_probs``.
    """

    kinds: tuple[KernelKind, ...] = MIXED_KINDS
    kind_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    size_range: tuple[int, int] = (7, 21)
    sigma_range: tuple[float, float] = (0.2, 3.0)
    rotation_range: tuple[float, float] = (-math.pi, math.pi)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    sinc_prob: float = 0.1
    sinc_cutoff: tuple[float, float] = (math.pi / 5, math.pi)
    sinc_cutoff_small: tuple[float, float] = (math.pi / 3, math.pi)
    small_size: int = 13

    def __post_init__(self) -> None:
        if KernelKind.SINC in self.kinds:
            raise DegradationConfigError("sinc is not a mixed-kernel kind", "set sinc_prob instead")
        check_distribution("kind_probs", self.kind_probs, len(self.kinds))
        check_odd_sizes("size_range", self.size_range)
        check_range("sigma_range", self.sigma_range, low=1e-3)
        check_range("rotation_range", self.rotation_range)
        check_range("betag_range", self.betag_range, low=1e-3)
        check_range("betap_range", self.betap_range, low=1e-3)
        check_probability("sinc_prob", self.sinc_prob)
        check_range("sinc_cutoff", self.sinc_cutoff, low=1e-3, high=math.pi)
        check_range("sinc_cutoff_small", self.sinc_cutoff_small, low=1e-3, high=math.pi)


def check_odd_sizes(name: str, sizes: tuple[int, int]) -> None:
    check_range(name, (float(sizes[0]), float(sizes[1])), low=1)
    if sizes[0] % 2 == 0 or sizes[1] % 2 == 0:
        raise DegradationConfigError(f"{name} is {sizes}; kernel sizes must be odd", "use odd sizes such as (7, 21)")


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, theta: float) -> np.ndarray:
    """x^T Σ^-1 x on a size×size grid centred on the middle pixel; Σ = R diag(σx², σy²) R^T, R rotating by θ."""
    radius = size // 2
    axis = np.arange(-radius, radius + 1, dtype=np.float64)
    x, y = np.meshgrid(axis, axis)  # x varies along columns, y along rows
    cos, sin = math.cos(theta), math.sin(theta)
    # Coordinates in the rotated frame, where Σ is diagonal.
    u = cos * x + sin * y
    v = -sin * x + cos * y
    return (u / sigma_x) ** 2 + (v / sigma_y) ** 2


def _normalised(kernel: np.ndarray) -> np.ndarray:
    return kernel / kernel.sum()


def _check_size(size: int) -> None:
    if size < 1 or size % 2 == 0:
        raise DegradationConfigError(f"kernel size {size} is not odd and positive", "use an odd size such as 21")


def gaussian_kernel(size: int, sigma_x: float, sigma_y: float, theta: float) -> np.ndarray:
    """Anisotropic Gaussian (isotropic when sigma_x == sigma_y), size×size float64 summing to 1."""
    _check_size(size)
    return _normalised(np.exp(-0.5 * _quadratic_form(size, sigma_x, sigma_y, theta)))


def generalized_gaussian_kernel(size: int, sigma_x: float, sigma_y: float, theta: float, beta: float) -> np.ndarray:
    """exp(-0.5 (x^T Σ^-1 x)^β): β = 1 is the Gaussian, smaller β has heavier tails, larger β is flatter."""
    _check_size(size)
    return _normalised(np.exp(-0.5 * _quadratic_form(size, sigma_x, sigma_y, theta) ** beta))


def plateau_kernel(size: int, sigma_x: float, sigma_y: float, theta: float, beta: float) -> np.ndarray:
    """1 / (1 + (x^T Σ^-1 x)^β): a flat top with polynomial tails."""
    _check_size(size)
    return _normalised(1.0 / (1.0 + _quadratic_form(size, sigma_x, sigma_y, theta) ** beta))


def sinc_kernel(size: int, cutoff: float) -> np.ndarray:
    """Circularly symmetric ideal low-pass filter, cut off at ``cutoff`` radians per pixel (π = Nyquist),
    truncated to size×size and normalised. Its ringing imitates over-sharpened and resampled images."""
    _check_size(size)
    radius = size // 2
    axis = np.arange(-radius, radius + 1, dtype=np.float64)
    x, y = np.meshgrid(axis, axis)
    r = np.hypot(x, y)
    bessel = torch.special.bessel_j1(torch.from_numpy(cutoff * r)).numpy()
    # The limit at r = 0 of cutoff·J1(cutoff·r)/(2πr) is cutoff²/(4π).
    safe_r = np.where(r > 0, r, 1.0)
    kernel = np.where(r > 0, cutoff * bessel / (2 * math.pi * safe_r), cutoff**2 / (4 * math.pi))
    return _normalised(kernel)


def _odd_size(rng: np.random.Generator, size_range: tuple[int, int]) -> int:
    return int(rng.choice(np.arange(size_range[0], size_range[1] + 1, 2)))


def _beta(rng: np.random.Generator, beta_range: tuple[float, float]) -> float:
    # As Real-ESRGAN: half the draws below 1, half above, when the range spans 1; plain uniform otherwise
    # (Real-ESRGAN would draw outside the range there).
    lo, hi = beta_range
    if lo < 1.0 < hi:
        return float(rng.uniform(lo, 1.0) if rng.random() < 0.5 else rng.uniform(1.0, hi))
    return float(rng.uniform(lo, hi))


def sample_sinc_kernel(
    rng: np.random.Generator, size_range: tuple[int, int], cutoff_range: tuple[float, float]
) -> BlurKernel:
    size = _odd_size(rng, size_range)
    cutoff = float(rng.uniform(*cutoff_range))
    return BlurKernel(KernelKind.SINC, size, sinc_kernel(size, cutoff), cutoff=cutoff)


def sample_blur_kernel(rng: np.random.Generator, settings: BlurSettings) -> BlurKernel:
    """One kernel drawn as Real-ESRGAN's dataset draws it (size first, then sinc or a mixed kind)."""
    size = _odd_size(rng, settings.size_range)
    if rng.random() < settings.sinc_prob:
        cutoff_range = settings.sinc_cutoff_small if size < settings.small_size else settings.sinc_cutoff
        cutoff = float(rng.uniform(*cutoff_range))
        return BlurKernel(KernelKind.SINC, size, sinc_kernel(size, cutoff), cutoff=cutoff)
    probs = np.asarray(settings.kind_probs, dtype=np.float64)
    kind = settings.kinds[int(rng.choice(len(settings.kinds), p=probs / probs.sum()))]
    sigma_x = float(rng.uniform(*settings.sigma_range))
    if kind.isotropic:
        sigma_y, theta = sigma_x, 0.0
    else:
        sigma_y = float(rng.uniform(*settings.sigma_range))
        theta = float(rng.uniform(*settings.rotation_range))
    if kind in (KernelKind.ISO, KernelKind.ANISO):
        weights, beta = gaussian_kernel(size, sigma_x, sigma_y, theta), None
    elif kind in (KernelKind.GENERALIZED_ISO, KernelKind.GENERALIZED_ANISO):
        beta = _beta(rng, settings.betag_range)
        weights = generalized_gaussian_kernel(size, sigma_x, sigma_y, theta, beta)
    else:
        beta = _beta(rng, settings.betap_range)
        weights = plateau_kernel(size, sigma_x, sigma_y, theta, beta)
    return BlurKernel(kind, size, weights, sigma_x=sigma_x, sigma_y=sigma_y, theta=theta, beta=beta)


def blur(images: torch.Tensor, kernels: Sequence[BlurKernel | None]) -> torch.Tensor:
    """Blur each image of an N×C×H×W batch with its own kernel (None leaves that image as it is).

    Kernels are zero-padded to the largest size in the batch, which changes nothing, and images are
    reflect-padded as Real-ESRGAN does; images too small to reflect by the kernel radius are edge-padded.
    """
    n, c, h, w = images.shape
    if len(kernels) != n:
        raise ValueError(f"{len(kernels)} kernels for a batch of {n}")
    size = max((k.size for k in kernels if k is not None), default=1)
    if size == 1:
        return images
    stacked = np.zeros((n, size, size), dtype=np.float64)
    for i, kernel in enumerate(kernels):
        weights = kernel.weights if kernel is not None else np.ones((1, 1))
        offset = (size - weights.shape[0]) // 2
        stacked[i, offset : offset + weights.shape[0], offset : offset + weights.shape[1]] = weights
    weight = torch.from_numpy(stacked).to(images).repeat_interleave(c, dim=0).unsqueeze(1)
    pad = size // 2
    mode = "reflect" if pad < min(h, w) else "replicate"
    padded = F.pad(images.reshape(1, n * c, h, w), (pad, pad, pad, pad), mode=mode)
    return F.conv2d(padded, weight, groups=n * c).reshape(n, c, h, w)
