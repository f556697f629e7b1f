"""GT' (unsharp masking) against an OpenCV reference of BasicSR's USMSharp, and the generator EMA."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skimage_data
from torch import nn

from ldl_backend.training.ema import Ema
from ldl_backend.training.sharpen import REAL_ESRGAN_USM, UnsharpMask, gaussian_taps, unsharp_mask


def _basicsr_usm(image: np.ndarray) -> np.ndarray:
    """BasicSR's USMSharp written with OpenCV: getGaussianKernel(51, 0), 2-D filtering with reflect-101 borders
    (what torch's 'reflect' padding is), |I − B|·255 > 10, weight 0.5."""
    column = cv2.getGaussianKernel(51, 0)
    kernel = column @ column.T
    blur = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    residual = image - blur
    mask = (np.abs(residual) * 255 > 10).astype(np.float64)
    soft = cv2.filter2D(mask, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    sharp = np.clip(image + 0.5 * residual, 0, 1)
    return soft * sharp + (1 - soft) * image


def test_the_kernel_is_opencvs() -> None:
    assert REAL_ESRGAN_USM.sigma == pytest.approx(8.0)
    np.testing.assert_allclose(gaussian_taps(51, REAL_ESRGAN_USM.sigma).numpy(), cv2.getGaussianKernel(51, 0)[:, 0])


def test_unsharp_mask_matches_basicsr_on_a_photo() -> None:
    photo = skimage_data.astronaut()[40:104, 180:244].astype(np.float64) / 255  # 64×64, RGB
    ours = unsharp_mask(torch.from_numpy(photo).permute(2, 0, 1)[None])[0].permute(1, 2, 0).numpy()
    reference = np.stack([_basicsr_usm(np.ascontiguousarray(photo[..., c])) for c in range(3)], axis=-1)
    np.testing.assert_allclose(ours, reference, atol=1e-9)
    assert np.abs(ours - photo).max() > 0.02  # it did sharpen
    flat = torch.full((1, 3, 32, 32), 0.4)
    assert torch.equal(unsharp_mask(flat), flat)
    assert unsharp_mask(torch.rand(1, 3, 32, 32)).dtype == torch.float32


def test_unsharp_mask_refuses_what_it_cannot_filter() -> None:
    with pytest.raises(ValueError, match="larger than 25"):
        unsharp_mask(torch.rand(1, 3, 25, 40))
    with pytest.raises(ValueError, match="odd size"):
        UnsharpMask(size=50)


class _WithBuffer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.register_buffer("count", torch.zeros(1))


def test_ema_averages_parameters_and_copies_buffers() -> None:
    torch.manual_seed(0)
    network = _WithBuffer()
    ema = Ema(network, decay=0.9)
    start = {name: value.clone() for name, value in network.state_dict().items()}
    assert not any(p.requires_grad for p in ema.module.parameters()) and not ema.module.training
    with torch.no_grad():
        network.linear.weight.add_(1.0)
        network.get_buffer("count").fill_(7)
    ema.update(network)
    # BasicSR: ema·decay + current·(1 − decay)
    expected = start["linear.weight"] * 0.9 + (start["linear.weight"] + 1.0) * (1 - 0.9)
    averaged = ema.state_dict()
    torch.testing.assert_close(averaged["linear.weight"], expected)
    torch.testing.assert_close(averaged["linear.bias"], start["linear.bias"])
    assert averaged["count"].item() == 7
    assert not torch.equal(averaged["linear.weight"], network.linear.weight)


def test_ema_round_trips_and_refuses_other_networks() -> None:
    network = _WithBuffer()
    ema = Ema(network, decay=0.5)
    copy = Ema(_WithBuffer(), decay=0.5)
    copy.load_state_dict(ema.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(copy.state_dict().values(), ema.state_dict().values(), strict=True))
    with pytest.raises(ValueError, match="differ"):
        ema.update(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="decay"):
        Ema(network, decay=1.0)
