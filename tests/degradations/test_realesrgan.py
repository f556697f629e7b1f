from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data

from ldl_backend.degradations.jpeg import jpeg_roundtrip
from ldl_backend.degradations.kernels import MIXED_KINDS, BlurSettings, DegradationConfigError, KernelKind
from ldl_backend.degradations.noise import NoiseKind, NoiseParams, add_noise
from ldl_backend.degradations.realesrgan import (
    ALL_MODES,
    REALWORLD,
    DegradationConfig,
    DegradationInputError,
    DegradationParams,
    FinalSettings,
    NoiseSettings,
    ResizeDirection,
    ResizeMode,
    ResizeSettings,
    StageParams,
    StageSettings,
    apply_degradation,
    degrade_batch,
    degrade_image,
    sample_degradation,
)


@cache
def _astronaut() -> np.ndarray:
    return data.astronaut().astype(np.float32) / 255.0


def crop(h: int = 96, w: int = 96, top: int = 60, left: int = 140) -> np.ndarray:
    return _astronaut()[top : top + h, left : left + w].copy()


def batch(*crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()


def quiet_config(mode: ResizeMode, jpeg_prob: float = 0.0, quality: int = 100) -> DegradationConfig:
    """No blur, no noise, no resizing in the stages, no sinc: only the resize to HR/scale and JPEG remain."""
    stage = StageSettings(
        blur_prob=0.0,
        resize=ResizeSettings(probs=(0.0, 0.0, 1.0), modes=(mode,)),
        noise=NoiseSettings(prob=0.0),
        jpeg_prob=jpeg_prob,
        jpeg_range=(quality, quality),
    )
    return DegradationConfig(first=stage, second=stage, final=FinalSettings(sinc_prob=0.0, resize_modes=(mode,)))


def test_defaults_are_ldls_real_world_training_options() -> None:
    # options/train/LDL/train_Realworld_LDL.yml (csjliang/LDL) = Real-ESRGAN's train_realesrgan_x4plus.yml.
    first, second, final = REALWORLD.first, REALWORLD.second, REALWORLD.final
    assert first.blur.kinds == MIXED_KINDS == second.blur.kinds
    assert first.blur.kind_probs == (0.45, 0.25, 0.12, 0.03, 0.12, 0.03) == second.blur.kind_probs
    assert first.blur.size_range == (7, 21) == second.blur.size_range
    assert (first.blur.sinc_prob, first.blur.sigma_range) == (0.1, (0.2, 3.0))
    assert (first.blur.betag_range, first.blur.betap_range) == ((0.5, 4.0), (1.0, 2.0))
    assert (second.blur.sinc_prob, second.blur.sigma_range) == (0.1, (0.2, 1.5))
    assert (second.blur.betag_range, second.blur.betap_range) == ((0.5, 4.0), (1.0, 2.0))
    assert (first.blur_prob, second.blur_prob, final.sinc_prob) == (1.0, 0.8, 0.8)
    assert (first.resize.probs, first.resize.range) == ((0.2, 0.7, 0.1), (0.15, 1.5))
    assert (second.resize.probs, second.resize.range) == ((0.3, 0.4, 0.3), (0.3, 1.2))
    assert first.noise == NoiseSettings(0.5, (1.0, 30.0), (0.05, 3.0), 0.4, 1.0)
    assert second.noise == NoiseSettings(0.5, (1.0, 25.0), (0.05, 2.5), 0.4, 1.0)
    assert first.jpeg_range == (30, 95) == second.jpeg_range
    assert (first.jpeg_prob, second.jpeg_prob, final.jpeg_last_prob) == (1.0, 1.0, 0.5)
    assert DegradationConfig() == REALWORLD


@pytest.mark.parametrize(
    "build",
    [
        lambda: ResizeSettings(probs=(0.5, 0.5, 0.5)),
        lambda: ResizeSettings(probs=(0.5, 0.5)),  # type: ignore[arg-type]
        lambda: ResizeSettings(range=(1.2, 1.5)),
        lambda: ResizeSettings(range=(0.9, 0.3)),
        lambda: ResizeSettings(modes=()),
        lambda: NoiseSettings(gaussian_prob=-0.1),
        lambda: NoiseSettings(sigma_range=(30.0, 1.0)),
        lambda: NoiseSettings(poisson_scale_range=(-1.0, 1.0)),
        lambda: StageSettings(jpeg_range=(30, 101)),
        lambda: StageSettings(jpeg_range=(95, 30)),
        lambda: StageSettings(blur_prob=2.0),
        lambda: FinalSettings(sinc_size_range=(7, 20)),
        lambda: FinalSettings(jpeg_last_prob=1.5),
        lambda: StageSettings(blur=BlurSettings(kind_probs=(1.0, 0.0, 0.0, 0.0, 0.0, 0.1))),
    ],
)
def test_invalid_settings_are_refused_with_a_message_and_a_hint(build: Callable[[], object]) -> None:
    with pytest.raises(DegradationConfigError) as caught:
        build()
    assert isinstance(caught.value, ValueError)
    assert caught.value.message and caught.value.hint


def test_same_seed_gives_identical_bytes_and_other_seeds_differ() -> None:
    hr = crop()
    first = degrade_image(hr, 4, seed=7)
    assert first.dtype == np.float32 and first.shape == (24, 24, 3)
    assert first.tobytes() == degrade_image(hr, 4, seed=7).tobytes()
    others = [degrade_image(hr, 4, seed=s) for s in range(3)]
    assert all(not np.array_equal(first, other) for other in others)
    assert hr.tobytes() == crop().tobytes()  # the input is left alone


def test_batches_are_deterministic_for_seeded_generators() -> None:
    hr = batch(crop(), crop(left=200))

    def run() -> torch.Tensor:
        return degrade_batch(hr, 4, np.random.default_rng(3), torch.Generator().manual_seed(3))

    assert torch.equal(run(), run())


def test_no_global_random_state_is_used() -> None:
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()
    degrade_image(crop(), 2, seed=11)
    degrade_batch(batch(crop()), 2, np.random.default_rng(1), torch.Generator().manual_seed(1))
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), numpy_state, strict=True))


@pytest.mark.parametrize(("scale", "h", "w"), [(2, 64, 64), (2, 50, 78), (4, 96, 96), (4, 68, 44), (4, 36, 100)])
def test_output_is_hr_over_scale_on_8_bit_levels(scale: int, h: int, w: int) -> None:
    for seed in range(4):
        lr = degrade_image(crop(h, w), scale, seed=seed)
        assert lr.shape == (h // scale, w // scale, 3) and lr.dtype == np.float32
        assert lr.min() >= 0.0 and lr.max() <= 1.0
        np.testing.assert_allclose(lr * 255, np.round(lr * 255), atol=1e-4)


def test_sizes_not_divisible_by_the_scale_are_floored() -> None:
    assert degrade_image(crop(67, 70), 4, seed=0).shape == (16, 17, 3)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(DegradationInputError):
        degrade_image(crop()[..., :2], 4, seed=0)
    with pytest.raises(DegradationInputError):
        degrade_image(crop(3, 40), 4, seed=0)
    with pytest.raises(DegradationInputError):
        degrade_image(crop(), 0, seed=0)
    params = sample_degradation(np.random.default_rng(0), REALWORLD, batch_size=2)
    with pytest.raises(DegradationInputError):
        apply_degradation(batch(crop()), params, 4, torch.Generator())
    with pytest.raises(DegradationInputError):
        apply_degradation((batch(crop(), crop()) * 255).to(torch.uint8), params, 4, torch.Generator())


def _sampled(n: int = 500) -> list[DegradationParams]:
    rng = np.random.default_rng(2024)
    return [sample_degradation(rng, REALWORLD) for _ in range(n)]


def _check_stage(stages: list[StageParams], settings: StageSettings) -> None:
    for stage in stages:
        resize = stage.resize
        assert resize.mode in ALL_MODES
        if resize.direction is ResizeDirection.UP:
            assert 1.0 <= resize.factor <= settings.resize.range[1]
        elif resize.direction is ResizeDirection.DOWN:
            assert settings.resize.range[0] <= resize.factor <= 1.0
        else:
            assert resize.factor == 1.0
        assert stage.noise is not None and stage.jpeg_quality is not None
        assert len(stage.noise) == len(stage.jpeg_quality) == 1
        noise = stage.noise[0]
        low, high = (
            settings.noise.sigma_range if noise.kind is NoiseKind.GAUSSIAN else settings.noise.poisson_scale_range
        )
        assert low <= noise.strength <= high
        assert settings.jpeg_range[0] <= stage.jpeg_quality[0] <= settings.jpeg_range[1]
        assert isinstance(stage.jpeg_quality[0], int)
        if stage.kernels is not None:
            assert settings.blur.sigma_range[0] <= (stage.kernels[0].sigma_x or math.pi) <= math.pi
    n = len(stages)
    # Fixed seed, bounds of about ±4 standard deviations over 500 draws: loose enough never to flake.
    directions = Counter(s.resize.direction for s in stages)
    for direction, p in zip(ResizeDirection, settings.resize.probs, strict=True):
        assert abs(directions[direction] - p * n) <= 4 * math.sqrt(n * p * (1 - p)) + 1
    gaussian = sum(s.noise is not None and s.noise[0].kind is NoiseKind.GAUSSIAN for s in stages)
    gray = sum(s.noise is not None and s.noise[0].gray for s in stages)
    blurred = sum(s.kernels is not None for s in stages)
    assert abs(gaussian - 0.5 * n) <= 45 and abs(gray - 0.4 * n) <= 45
    assert abs(blurred - settings.blur_prob * n) <= 40
    assert {s.resize.mode for s in stages} == set(ALL_MODES)


def test_sampled_parameters_respect_each_stages_ranges() -> None:
    sampled = _sampled()
    _check_stage([p.first for p in sampled], REALWORLD.first)
    _check_stage([p.second for p in sampled], REALWORLD.second)
    assert all(p.first.kernels is not None for p in sampled)  # stage one always blurs
    second_sigmas = [k.sigma_x for p in sampled if p.second.kernels for k in p.second.kernels if k.sigma_x]
    assert second_sigmas and max(second_sigmas) <= 1.5
    sincs = [p.final_sinc[0] for p in sampled]
    assert 350 <= sum(k is not None for k in sincs) <= 450  # final_sinc_prob 0.8
    for kernel in sincs:
        if kernel is not None:
            assert kernel.kind is KernelKind.SINC and kernel.cutoff is not None
            assert math.pi / 3 <= kernel.cutoff <= math.pi and kernel.size in range(7, 22, 2)
    assert 205 <= sum(p.jpeg_last for p in sampled) <= 295
    assert {p.final_mode for p in sampled} == set(ALL_MODES)


def test_batches_get_kernels_noise_and_quality_per_image_and_one_resize() -> None:
    params = sample_degradation(np.random.default_rng(9), REALWORLD, batch_size=4)
    assert params.batch_size == 4
    kernels = params.first.kernels
    assert kernels is not None and len(kernels) == 4
    assert len({k.weights.tobytes() for k in kernels}) == 4
    assert params.first.noise is not None and len({n.strength for n in params.first.noise}) == 4
    assert len({n.kind for n in params.first.noise}) == 1
    assert params.first.jpeg_quality is not None and len(params.first.jpeg_quality) == 4


def test_each_image_of_a_batch_is_degraded_by_its_own_parameters() -> None:
    # Without noise the order of random draws cannot matter, so a batch must equal its images one by one.
    stage = replace(REALWORLD.first, noise=NoiseSettings(prob=0.0))
    config = DegradationConfig(first=stage, second=replace(REALWORLD.second, noise=NoiseSettings(prob=0.0)))
    hr = batch(crop(), crop(), crop())
    params = sample_degradation(np.random.default_rng(4), config, batch_size=3)
    out = apply_degradation(hr, params, 4, torch.Generator())
    assert out.shape == (3, 3, 24, 24) and out.dtype == torch.float32

    def alone(i: int) -> DegradationParams:
        def one(stage: StageParams) -> StageParams:
            return replace(
                stage,
                kernels=None if stage.kernels is None else stage.kernels[i : i + 1],
                jpeg_quality=None if stage.jpeg_quality is None else stage.jpeg_quality[i : i + 1],
            )

        return replace(
            params, first=one(params.first), second=one(params.second), final_sinc=params.final_sinc[i : i + 1]
        )

    for i in range(3):
        single = apply_degradation(hr[i : i + 1], alone(i), 4, torch.Generator())
        assert (single[0] - out[i]).abs().mean() < 1e-3
    assert not torch.equal(out[0], out[1]) and not torch.equal(out[1], out[2])


@pytest.mark.parametrize("mode", list(ResizeMode))
def test_without_blur_noise_and_jpeg_only_the_resize_remains(mode: ResizeMode) -> None:
    hr = crop()
    options = {} if mode is ResizeMode.AREA else {"align_corners": False}
    expected = F.interpolate(batch(hr), size=(24, 24), mode=mode.value, **options)
    expected = (torch.clamp(expected, 0, 1) * 255).round()[0].permute(1, 2, 0).numpy() / 255
    np.testing.assert_allclose(degrade_image(hr, 4, seed=1, config=quiet_config(mode)), expected, atol=1e-6)
    # Quality 100 still subsamples chroma, so colour edges move by a few levels; luminance barely changes.
    compressed = degrade_image(hr, 4, seed=1, config=quiet_config(mode, jpeg_prob=1.0, quality=100))
    error = compressed - expected
    assert np.abs(error).mean() < 3 / 255
    assert 10 * math.log10(1 / np.mean(error**2)) > 35


def test_gaussian_noise_strength_and_gray_noise() -> None:
    flat = torch.full((2, 3, 64, 64), 0.5)
    noises = [NoiseParams(NoiseKind.GAUSSIAN, 20.0, False), NoiseParams(NoiseKind.GAUSSIAN, 20.0, True)]
    out = add_noise(flat, noises, torch.Generator().manual_seed(0))
    assert float((out[0] - 0.5).std()) == pytest.approx(20 / 255, rel=0.05)
    assert torch.equal(out[1, 0], out[1, 1]) and torch.equal(out[1, 1], out[1, 2])
    assert not torch.equal(out[0, 0], out[0, 1])


def test_poisson_noise_scales_and_can_be_gray() -> None:
    image = batch(crop(64, 64)).repeat(3, 1, 1, 1)
    noises = [
        NoiseParams(NoiseKind.POISSON, 0.5, False),
        NoiseParams(NoiseKind.POISSON, 3.0, False),
        NoiseParams(NoiseKind.POISSON, 3.0, True),
    ]
    out = add_noise(image, noises, torch.Generator().manual_seed(0))
    weak, strong = (out[0] - image[0]).std(), (out[1] - image[1]).std()
    assert 0 < weak < strong
    gray_diff = out[2] - image[2]
    inside = (out[2] > 0.02).all(0) & (out[2] < 0.98).all(0)  # away from clamping, all channels move together
    assert torch.allclose(gray_diff[0][inside], gray_diff[1][inside], atol=1e-5)


def test_jpeg_keeps_colours_in_rgb_order_and_lower_quality_loses_more() -> None:
    red = torch.zeros(1, 3, 32, 32)
    red[:, 0] = 0.9
    out = jpeg_roundtrip(red, [90])
    assert out[0, 0].mean() > 0.85 and out[0, 2].mean() < 0.05
    hr = batch(crop(64, 64)).repeat(2, 1, 1, 1)
    out = jpeg_roundtrip(hr, [95, 30])
    assert (out[0] - hr[0]).abs().mean() < (out[1] - hr[1]).abs().mean()
