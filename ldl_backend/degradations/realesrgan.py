"""Real-ESRGAN's second-order degradation model: HR image → realistic LR image.

Each of two stages blurs, resizes, adds noise and compresses with JPEG; then the image is resized to HR/scale
and filtered with a sinc (ringing), either before or after the last JPEG. Every random choice is drawn first
(:func:`sample_degradation`, from a ``numpy.random.Generator``) into a :class:`DegradationParams` record and
then applied (:func:`apply_degradation`), whose only randomness is the noise, drawn from a ``torch.Generator``.
No global random state is read or written, so a seed fixes the output.

Batches follow Real-ESRGAN's split: kernels, noise strengths, gray-noise flags and JPEG qualities are per
image (its dataset and noise functions draw them per sample); resize direction, factor and mode, whether a
stage blurs or adds noise, Gaussian versus Poisson, and the order of the final steps are per batch (its
model's ``feed_data`` draws them once, as resized images in one tensor must share a size).

Defaults are LDL's real-world training configuration (``options/train/LDL/train_Realworld_LDL.yml`` in
csjliang/LDL, identical in these keys to Real-ESRGAN's ``options/train_realesrgan_x4plus.yml``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import torch
import torch.nn.functional as F

from ldl_backend.degradations.jpeg import jpeg_roundtrip
from ldl_backend.degradations.kernels import (
    BlurKernel,
    BlurSettings,
    DegradationConfigError,
    blur,
    check_distribution,
    check_odd_sizes,
    check_probability,
    check_range,
    sample_blur_kernel,
    sample_sinc_kernel,
)
from ldl_backend.degradations.noise import NoiseKind, NoiseParams, add_noise
from ldl_backend.errors import LdlError


class DegradationInputError(LdlError, ValueError):
    """The image given to the degradation model has the wrong shape, type or size for the scale."""

    code = "bad_degradation_input"


class ResizeMode(str, Enum):
    AREA = "area"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


class ResizeDirection(str, Enum):
    UP = "up"
    DOWN = "down"
    KEEP = "keep"


ALL_MODES = (ResizeMode.AREA, ResizeMode.BILINEAR, ResizeMode.BICUBIC)


def _check_modes(name: str, modes: tuple[ResizeMode, ...]) -> None:
    if not modes:
        raise DegradationConfigError(f"{name} is empty", "list at least one of area, bilinear, bicubic")


@dataclass(frozen=True)
class ResizeSettings:
    """``probs`` are for (up, down, keep); up draws a factor in [1, range[1]], down in [range[0], 1]; the mode
    is uniform over ``modes``."""

    probs: tuple[float, float, float] = (0.2, 0.7, 0.1)
    range: tuple[float, float] = (0.15, 1.5)
    modes: tuple[ResizeMode, ...] = ALL_MODES

    def __post_init__(self) -> None:
        check_distribution("resize probs", self.probs, 3)
        check_range("resize range", self.range, low=1e-3)
        if not self.range[0] <= 1.0 <= self.range[1]:
            raise DegradationConfigError(f"resize range {self.range} does not contain 1", "use (down, up) around 1")
        _check_modes("resize modes", self.modes)


@dataclass(frozen=True)
class NoiseSettings:
    """With ``prob`` (1 in Real-ESRGAN) the stage adds noise: Gaussian with ``gaussian_prob`` (sigma on the
    0–255 scale from ``sigma_range``), else Poisson (multiplier from ``poisson_scale_range``); each image's
    noise is gray with ``gray_prob``."""

    gaussian_prob: float = 0.5
    sigma_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_prob: float = 0.4
    prob: float = 1.0

    def __post_init__(self) -> None:
        check_probability("gaussian noise prob", self.gaussian_prob)
        check_range("noise sigma range", self.sigma_range, low=0.0)
        check_range("poisson scale range", self.poisson_scale_range, low=0.0)
        check_probability("gray noise prob", self.gray_prob)
        check_probability("noise prob", self.prob)


@dataclass(frozen=True)
class StageSettings:
    """One degradation stage. ``blur_prob``, ``jpeg_prob`` (and the noise's ``prob``) decide per batch whether
    the step runs; Real-ESRGAN always blurs in stage one, blurs with 0.8 in stage two, and always compresses."""

    blur: BlurSettings = field(default_factory=BlurSettings)
    blur_prob: float = 1.0
    resize: ResizeSettings = field(default_factory=ResizeSettings)
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    jpeg_range: tuple[int, int] = (30, 95)
    jpeg_prob: float = 1.0

    def __post_init__(self) -> None:
        check_probability("blur prob", self.blur_prob)
        check_range("jpeg range", (float(self.jpeg_range[0]), float(self.jpeg_range[1])), low=1, high=100)
        check_probability("jpeg prob", self.jpeg_prob)


def _second_stage() -> StageSettings:
    return StageSettings(
        blur=BlurSettings(sigma_range=(0.2, 1.5)),
        blur_prob=0.8,
        resize=ResizeSettings(probs=(0.3, 0.4, 0.3), range=(0.3, 1.2)),
        noise=NoiseSettings(sigma_range=(1.0, 25.0), poisson_scale_range=(0.05, 2.5)),
    )


@dataclass(frozen=True)
class FinalSettings:
    """The last step: resize to HR/scale with a mode from ``resize_modes`` and, with ``sinc_prob`` per image,
    filter with a sinc (size in ``sinc_size_range``, cutoff in ``sinc_cutoff`` radians). With ``jpeg_last_prob``
    that pair runs before the second stage's JPEG, otherwise after it."""

    sinc_prob: float = 0.8
    sinc_size_range: tuple[int, int] = (7, 21)
    sinc_cutoff: tuple[float, float] = (math.pi / 3, math.pi)
    resize_modes: tuple[ResizeMode, ...] = ALL_MODES
    jpeg_last_prob: float = 0.5

    def __post_init__(self) -> None:
        check_probability("final sinc prob", self.sinc_prob)
        check_odd_sizes("final sinc size range", self.sinc_size_range)
        check_range("final sinc cutoff", self.sinc_cutoff, low=1e-3, high=math.pi)
        _check_modes("final resize modes", self.resize_modes)
        check_probability("jpeg last prob", self.jpeg_last_prob)


@dataclass(frozen=True)
class DegradationConfig:
    first: StageSettings = field(default_factory=StageSettings)
    second: StageSettings = field(default_factory=_second_stage)
    final: FinalSettings = field(default_factory=FinalSettings)


REALWORLD = DegradationConfig()
"""LDL's real-world preset (the defaults)."""


@dataclass(frozen=True)
class ResizeParams:
    direction: ResizeDirection
    factor: float
    mode: ResizeMode


@dataclass(frozen=True)
class StageParams:
    """What one stage does to a batch; None means the step is skipped. Per-image tuples are in batch order."""

    kernels: tuple[BlurKernel, ...] | None
    resize: ResizeParams
    noise: tuple[NoiseParams, ...] | None
    jpeg_quality: tuple[int, ...] | None


@dataclass(frozen=True)
class DegradationParams:
    """Every random choice of one degradation of a batch. ``second.jpeg_quality`` belongs to the final step;
    ``final_sinc`` holds one kernel per image (None: no sinc); ``jpeg_last`` is True for
    [resize to HR/scale + sinc] then JPEG, False for JPEG then [resize + sinc]."""

    first: StageParams
    second: StageParams
    final_sinc: tuple[BlurKernel | None, ...]
    final_mode: ResizeMode
    jpeg_last: bool

    @property
    def batch_size(self) -> int:
        return len(self.final_sinc)


def _pick(rng: np.random.Generator, options: tuple[ResizeMode, ...]) -> ResizeMode:
    return options[int(rng.integers(len(options)))]


def _sample_resize(rng: np.random.Generator, settings: ResizeSettings) -> ResizeParams:
    probs = np.asarray(settings.probs, dtype=np.float64)
    direction = (ResizeDirection.UP, ResizeDirection.DOWN, ResizeDirection.KEEP)[
        int(rng.choice(3, p=probs / probs.sum()))
    ]
    if direction is ResizeDirection.UP:
        factor = float(rng.uniform(1.0, settings.range[1]))
    elif direction is ResizeDirection.DOWN:
        factor = float(rng.uniform(settings.range[0], 1.0))
    else:
        factor = 1.0
    return ResizeParams(direction, factor, _pick(rng, settings.modes))


def _sample_noise(rng: np.random.Generator, settings: NoiseSettings, n: int) -> tuple[NoiseParams, ...] | None:
    if rng.random() >= settings.prob:
        return None
    kind = NoiseKind.GAUSSIAN if rng.random() < settings.gaussian_prob else NoiseKind.POISSON
    strength_range = settings.sigma_range if kind is NoiseKind.GAUSSIAN else settings.poisson_scale_range
    return tuple(
        NoiseParams(kind, float(rng.uniform(*strength_range)), bool(rng.random() < settings.gray_prob))
        for _ in range(n)
    )


def _sample_jpeg(rng: np.random.Generator, settings: StageSettings, n: int) -> tuple[int, ...] | None:
    if rng.random() >= settings.jpeg_prob:
        return None
    # OpenCV takes integer qualities; DiffJPEG's real-valued ones differ by less than one step.
    lo, hi = settings.jpeg_range
    return tuple(int(q) for q in rng.integers(lo, hi + 1, size=n))


def sample_degradation(
    rng: np.random.Generator, config: DegradationConfig = REALWORLD, batch_size: int = 1
) -> DegradationParams:
    """Draw every random choice for a batch of ``batch_size`` images (see the module docstring for which are
    per image). Deterministic for a given generator state; touches no global random state."""
    if batch_size < 1:
        raise DegradationInputError(f"batch size {batch_size} is not positive", "degrade at least one image")
    # Kernels first, per image, as Real-ESRGAN's dataset makes them.
    kernels1 = tuple(sample_blur_kernel(rng, config.first.blur) for _ in range(batch_size))
    kernels2 = tuple(sample_blur_kernel(rng, config.second.blur) for _ in range(batch_size))
    final = config.final
    final_sinc = tuple(
        sample_sinc_kernel(rng, final.sinc_size_range, final.sinc_cutoff) if rng.random() < final.sinc_prob else None
        for _ in range(batch_size)
    )
    stages: list[StageParams] = []
    for settings, kernels in ((config.first, kernels1), (config.second, kernels2)):
        blurs = rng.random() < settings.blur_prob
        resize = _sample_resize(rng, settings.resize)
        noise = _sample_noise(rng, settings.noise, batch_size)
        stages.append(StageParams(kernels if blurs else None, resize, noise, _sample_jpeg(rng, settings, batch_size)))
    jpeg_last = bool(rng.random() < final.jpeg_last_prob)
    return DegradationParams(stages[0], stages[1], final_sinc, _pick(rng, final.resize_modes), jpeg_last)


def _resize(images: torch.Tensor, size: tuple[int, int], mode: ResizeMode) -> torch.Tensor:
    if tuple(images.shape[-2:]) == size:
        return images  # every mode is the identity at the same size
    if mode is ResizeMode.AREA:
        return F.interpolate(images, size=size, mode="area")
    return F.interpolate(images, size=size, mode=mode.value, align_corners=False)


def _scaled(h: float, w: float, factor: float) -> tuple[int, int]:
    return max(1, int(h * factor)), max(1, int(w * factor))


def _blur_resize_noise(
    images: torch.Tensor, stage: StageParams, size: tuple[int, int], generator: torch.Generator
) -> torch.Tensor:
    if stage.kernels is not None:
        images = blur(images, stage.kernels)
    images = _resize(images, size, stage.resize.mode)
    return images if stage.noise is None else add_noise(images, stage.noise, generator)


def _resize_back_and_sinc(images: torch.Tensor, params: DegradationParams, size: tuple[int, int]) -> torch.Tensor:
    return blur(_resize(images, size, params.final_mode), params.final_sinc)


def _jpeg(images: torch.Tensor, qualities: tuple[int, ...] | None) -> torch.Tensor:
    # Clamp first: values outside [0, 1] (bicubic overshoot) would otherwise saturate in the codec anyway.
    images = torch.clamp(images, 0.0, 1.0)
    return images if qualities is None else jpeg_roundtrip(images, qualities)


def _check_input(hr: torch.Tensor, scale: int, batch_size: int | None) -> None:
    if scale < 1:
        raise DegradationInputError(f"scale {scale} is not a positive integer", "use 2 or 4")
    if hr.ndim != 4 or hr.shape[1] != 3 or not hr.is_floating_point():
        raise DegradationInputError(
            f"expected an N×3×H×W float tensor, got {tuple(hr.shape)} {hr.dtype}", "pass RGB images in [0, 1]"
        )
    if batch_size is not None and hr.shape[0] != batch_size:
        raise DegradationInputError(
            f"the parameters are for {batch_size} images but the batch has {hr.shape[0]}",
            "sample the parameters with batch_size equal to the batch",
        )
    if min(hr.shape[-2:]) < scale:
        raise DegradationInputError(
            f"a {hr.shape[-2]}×{hr.shape[-1]} image is smaller than the scale {scale}", "use a larger crop"
        )


@torch.no_grad()
def apply_degradation(
    hr: torch.Tensor, params: DegradationParams, scale: int, noise_generator: torch.Generator
) -> torch.Tensor:
    """Degrade an N×3×H×W RGB float batch in [0, 1] to N×3×(H//scale)×(W//scale) float32 on 8-bit levels.

    Stage one's resize factor is relative to the HR size, stage two's to the final LR size (as Real-ESRGAN).
    Noise comes from ``noise_generator`` (drawn on its device); JPEG runs on the CPU; the rest on ``hr``'s device.
    Raises :class:`DegradationInputError` for a wrong shape, a batch size that does not match ``params`` or an
    image smaller than the scale.
    """
    _check_input(hr, scale, params.batch_size)
    h, w = hr.shape[-2:]
    lr_size = (h // scale, w // scale)
    first, second = params.first, params.second
    out = _blur_resize_noise(hr.to(torch.float32), first, _scaled(h, w, first.resize.factor), noise_generator)
    out = _jpeg(out, first.jpeg_quality)
    out = _blur_resize_noise(out, second, _scaled(h / scale, w / scale, second.resize.factor), noise_generator)
    # Real-ESRGAN found that other orders of sinc, JPEG and resize introduce twisted lines.
    if params.jpeg_last:
        out = _jpeg(_resize_back_and_sinc(out, params, lr_size), params.second.jpeg_quality)
    else:
        out = _resize_back_and_sinc(_jpeg(out, params.second.jpeg_quality), params, lr_size)
    return torch.clamp((out * 255.0).round(), 0, 255) / 255.0


def degrade_batch(
    hr: torch.Tensor,
    scale: int,
    rng: np.random.Generator,
    noise_generator: torch.Generator,
    config: DegradationConfig | None = None,
) -> torch.Tensor:
    """Training form: sample parameters for the batch from ``rng`` and apply them (see :func:`apply_degradation`
    for shapes). Each image gets its own kernels, noise strength and JPEG qualities."""
    _check_input(hr, scale, None)
    params = sample_degradation(rng, config or REALWORLD, hr.shape[0])
    return apply_degradation(hr, params, scale, noise_generator)


def degrade_image(hr: np.ndarray, scale: int, seed: int, config: DegradationConfig | None = None) -> np.ndarray:
    """Evaluation form: an H×W×3 RGB float image in [0, 1] → its (H//scale)×(W//scale)×3 float32 LR image.

    The same ``seed`` (with the same config) gives identical bytes. Raises :class:`DegradationInputError` for
    anything but an H×W×3 image at least ``scale`` pixels on each side.
    """
    if hr.ndim != 3 or hr.shape[2] != 3:
        raise DegradationInputError(f"expected an H×W×3 image, got shape {hr.shape}", "pass an RGB image")
    rng = np.random.default_rng(seed)
    params = sample_degradation(rng, config or REALWORLD, 1)
    noise_generator = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
    tensor = torch.from_numpy(np.ascontiguousarray(hr, dtype=np.float32).transpose(2, 0, 1)).unsqueeze(0)
    lr = apply_degradation(tensor, params, scale, noise_generator)
    return np.ascontiguousarray(lr[0].permute(1, 2, 0).numpy())
