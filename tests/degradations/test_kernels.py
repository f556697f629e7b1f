from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ldl_backend.degradations.kernels import (
    MIXED_KINDS,
    BlurKernel,
    BlurSettings,
    DegradationConfigError,
    KernelKind,
    blur,
    gaussian_kernel,
    generalized_gaussian_kernel,
    plateau_kernel,
    sample_blur_kernel,
    sample_sinc_kernel,
    sinc_kernel,
)
from ldl_backend.errors import LdlError

KERNELS = {
    "gaussian": lambda size: gaussian_kernel(size, 2.5, 0.8, 0.6),
    "generalized": lambda size: generalized_gaussian_kernel(size, 2.0, 1.0, -1.2, 0.6),
    "plateau": lambda size: plateau_kernel(size, 1.5, 2.5, 2.0, 1.7),
    "sinc": lambda size: sinc_kernel(size, math.pi / 4),
}


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("size", [7, 13, 21])
def test_kernels_are_normalised_odd_and_point_symmetric(name: str, size: int) -> None:
    kernel = KERNELS[name](size)
    assert kernel.shape == (size, size)
    assert kernel.sum() == pytest.approx(1.0, abs=1e-12)
    # Point symmetry makes PyTorch's cross-correlation a true convolution.
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1], atol=1e-15)


def test_isotropic_gaussian_is_the_outer_product_of_1d_gaussians() -> None:
    axis = np.arange(-7, 8, dtype=np.float64)
    g = np.exp(-(axis**2) / (2 * 1.7**2))
    expected = np.outer(g, g) / np.outer(g, g).sum()
    np.testing.assert_allclose(gaussian_kernel(15, 1.7, 1.7, 0.3), expected, atol=1e-15)


def test_anisotropic_gaussian_rotates_with_theta() -> None:
    wide = gaussian_kernel(21, 3.0, 1.0, 0.0)
    assert wide[10, :].sum() > wide[:, 10].sum()  # sigma_x spreads along columns (x)
    np.testing.assert_allclose(gaussian_kernel(21, 3.0, 1.0, math.pi / 2), wide.T, atol=1e-15)


def test_beta_one_generalized_is_gaussian_and_plateau_is_flatter() -> None:
    np.testing.assert_allclose(
        generalized_gaussian_kernel(15, 2.0, 1.0, 0.4, 1.0), gaussian_kernel(15, 2.0, 1.0, 0.4), atol=1e-15
    )
    gaussian, plateau = gaussian_kernel(21, 2.0, 2.0, 0.0), plateau_kernel(21, 2.0, 2.0, 0.0, 2.0)
    # Relative to its peak, the plateau falls off more slowly near the centre and has far heavier tails.
    assert plateau[10, 11] / plateau[10, 10] > gaussian[10, 11] / gaussian[10, 10]
    assert plateau[10, 0] / plateau[10, 10] > 100 * gaussian[10, 0] / gaussian[10, 10]


def test_sinc_passes_below_and_stops_above_its_cutoff() -> None:
    kernel = sinc_kernel(21, math.pi / 4)
    response = np.abs(np.fft.fft2(kernel, s=(256, 256)))
    assert response[0, 0] == pytest.approx(1.0)
    assert response[0, 8] == pytest.approx(1.0, abs=0.15)  # ω = π/16
    assert response[0, 96] < 0.1  # ω = 3π/4
    assert sinc_kernel(1, 1.0).tolist() == [[1.0]]


def test_even_or_empty_sizes_are_refused() -> None:
    for size in (0, 8):
        with pytest.raises(DegradationConfigError):
            gaussian_kernel(size, 1.0, 1.0, 0.0)


def test_sampled_kernels_respect_the_default_ranges() -> None:
    settings = BlurSettings()
    rng = np.random.default_rng(1234)
    kernels = [sample_blur_kernel(rng, settings) for _ in range(600)]
    assert {k.size for k in kernels} == set(range(7, 22, 2))
    for k in kernels:
        assert k.weights.shape == (k.size, k.size)
        assert k.weights.sum() == pytest.approx(1.0, abs=1e-9)
        if k.kind is KernelKind.SINC:
            assert k.sigma_x is None and k.beta is None and k.cutoff is not None
            low = math.pi / 3 if k.size < 13 else math.pi / 5
            assert low <= k.cutoff <= math.pi
            continue
        assert k.cutoff is None and k.sigma_x is not None and k.sigma_y is not None and k.theta is not None
        assert 0.2 <= k.sigma_x <= 3.0 and 0.2 <= k.sigma_y <= 3.0
        if k.kind.isotropic:
            assert k.sigma_x == k.sigma_y and k.theta == 0.0
        else:
            assert -math.pi <= k.theta <= math.pi
        if k.kind in (KernelKind.GENERALIZED_ISO, KernelKind.GENERALIZED_ANISO):
            assert k.beta is not None and 0.5 <= k.beta <= 4.0
        elif k.kind in (KernelKind.PLATEAU_ISO, KernelKind.PLATEAU_ANISO):
            assert k.beta is not None and 1.0 <= k.beta <= 2.0
        else:
            assert k.beta is None
    counts = Counter(k.kind for k in kernels)
    # Fixed seed: these loose bounds (about ±4 standard deviations) test the mixture, they cannot flake.
    assert 30 <= counts[KernelKind.SINC] <= 95  # sinc_prob 0.1 → 60 expected
    assert 190 <= counts[KernelKind.ISO] <= 300  # 0.9 × 0.45 → 243 expected
    assert counts[KernelKind.GENERALIZED_ANISO] >= 3  # rare kinds still occur
    assert set(counts) == {*MIXED_KINDS, KernelKind.SINC}


def test_sinc_probability_extremes_and_custom_ranges() -> None:
    rng = np.random.default_rng(0)
    never = BlurSettings(sinc_prob=0.0, size_range=(9, 9), sigma_range=(1.0, 1.0))
    always = BlurSettings(sinc_prob=1.0)
    assert all(sample_blur_kernel(rng, never).kind is not KernelKind.SINC for _ in range(100))
    assert all(sample_blur_kernel(rng, never).size == 9 for _ in range(20))
    assert all(sample_blur_kernel(rng, always).kind is KernelKind.SINC for _ in range(100))
    sinc = sample_sinc_kernel(rng, (21, 21), (1.0, 1.0))
    assert sinc.size == 21 and sinc.cutoff == 1.0
    np.testing.assert_allclose(sinc.weights, sinc_kernel(21, 1.0))


def test_beta_range_above_one_is_sampled_uniformly_within_it() -> None:
    settings = BlurSettings(kinds=(KernelKind.PLATEAU_ISO,), kind_probs=(1.0,), sinc_prob=0.0, betap_range=(1.5, 3.0))
    rng = np.random.default_rng(5)
    betas = [sample_blur_kernel(rng, settings).beta for _ in range(200)]
    assert all(b is not None and 1.5 <= b <= 3.0 for b in betas)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind_probs": (0.5, 0.5, 0.1, 0.0, 0.0, 0.0)},
        {"kind_probs": (1.0,)},
        {"sigma_range": (3.0, 0.2)},
        {"sigma_range": (0.0, 1.0)},
        {"size_range": (8, 21)},
        {"sinc_prob": 1.5},
        {"sinc_cutoff": (0.5, 4.0)},
        {"kinds": (KernelKind.SINC,), "kind_probs": (1.0,)},
    ],
)
def test_invalid_blur_settings_are_refused_with_a_hint(changes: dict[str, object]) -> None:
    with pytest.raises(DegradationConfigError) as caught:
        BlurSettings(**changes)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, LdlError)
    assert caught.value.hint


def _kernel(weights: np.ndarray) -> BlurKernel:
    return BlurKernel(KernelKind.ISO, weights.shape[0], weights)


def test_blur_applies_each_samples_own_kernel() -> None:
    images = torch.rand(1, 3, 40, 36, generator=torch.Generator().manual_seed(0)).repeat(3, 1, 1, 1)
    small, large = _kernel(gaussian_kernel(7, 1.0, 1.0, 0.0)), _kernel(gaussian_kernel(21, 3.0, 1.0, 0.5))
    out = blur(images, [small, large, None])
    for i, kernel in enumerate((small, large)):
        pad = kernel.size // 2
        weight = torch.from_numpy(kernel.weights).float().expand(3, 1, -1, -1)
        padded = F.pad(images[i : i + 1], (pad, pad, pad, pad), mode="reflect")
        np.testing.assert_allclose(out[i : i + 1], F.conv2d(padded, weight, groups=3), atol=1e-6)
    assert torch.equal(out[2], images[2])
    assert not torch.allclose(out[0], out[1], atol=1e-3)


def test_blur_of_an_impulse_is_the_kernel_itself() -> None:
    weights = gaussian_kernel(9, 2.0, 0.7, 0.9)
    image = torch.zeros(1, 3, 21, 21)
    image[..., 10, 10] = 1.0
    out = blur(image, [_kernel(weights)])
    np.testing.assert_allclose(out[0, 1, 6:15, 6:15].numpy(), weights, atol=1e-7)


def test_blur_handles_images_smaller_than_the_kernel_radius() -> None:
    out = blur(torch.full((2, 3, 5, 4), 0.25), [_kernel(gaussian_kernel(21, 2.0, 2.0, 0.0))] * 2)
    assert out.shape == (2, 3, 5, 4)
    np.testing.assert_allclose(out.numpy(), 0.25, atol=1e-6)
