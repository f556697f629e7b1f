"""The loss terms: the artifact term by hand (window 7, reflect padding, unbiased variance, δ per sample, EMA
refinement), its gradient against LDL's released formulation, the perceptual and GAN losses."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from ldl_backend.artifacts import refined_artifact_map
from ldl_backend.training.config import ArtifactMapConfig, PerceptualConfig
from ldl_backend.training.losses import (
    PerceptualLoss,
    artifact_loss,
    gan_loss,
    pixel_loss,
    relativistic_gan_loss,
)
from ldl_backend.training.vgg_weights import random_vgg19


def _spike_pair(amplitudes: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Two 1×9×9 samples: GT zero, SR zero but for one value at row 1, column 1 (next to the border)."""
    gt = torch.zeros(2, 1, 9, 9, dtype=torch.float64)
    sr = gt.clone()
    for n, amplitude in enumerate(amplitudes):
        sr[n, 0, 1, 1] = amplitude
    return gt, sr


def _copies(i: int) -> int:
    """How often row (or column) 1 appears in the reflect-padded 7-window centred on i: itself when |i − 1| ≤ 3,
    and its mirror image −1 (reflect padding does not repeat the edge, so −1 ↦ 1) when i − 3 ≤ −1."""
    return int(i <= 4) + int(i <= 2)


def _hand_map(amplitude: float) -> torch.Tensor:
    # δ: one value a among 81 → unbiased variance (a² − 81·(a/81)²)/80 = a²/81, to the power 1/5.
    delta = (amplitude**2 / 81) ** 0.2
    expected = torch.zeros(9, 9, dtype=torch.float64)
    for i in range(9):
        for j in range(9):
            k = _copies(i) * _copies(j)  # copies of a among the 49 values of the window
            expected[i, j] = delta * (k * amplitude**2 - k * k * amplitude**2 / 49) / 48
    return expected


def test_hand_computed_nine_by_nine_map_and_loss() -> None:
    a, b = 0.9, 0.3
    gt, sr = _spike_pair((a, b))
    expected = torch.stack([_hand_map(a), _hand_map(b)])
    # A few entries written out: corner/near-corner windows hold a four times, the centre once.
    assert expected[0, 0, 0] == pytest.approx((a**2 / 81) ** 0.2 * a**2 * 15 / 196)
    assert expected[0, 0, 4] == pytest.approx((a**2 / 81) ** 0.2 * a**2 * 47 / 1176)
    assert expected[0, 4, 4] == pytest.approx((a**2 / 81) ** 0.2 * a**2 / 49)
    assert expected[0, 5, 5] == 0
    sr_ema = gt.clone()  # the EMA output is exact: its residual is never larger, nothing is zeroed
    artifact_map = refined_artifact_map(gt, sr, sr_ema, window=7, exponent=0.2)
    torch.testing.assert_close(artifact_map[:, 0], expected, rtol=1e-6, atol=1e-12)
    # δ is per sample: the second map is not the first one rescaled by the batch's variance.
    assert not torch.allclose(expected[1], expected[0] * (b / a) ** 2)
    # L1(M·SR, M·GT) is non-zero only at the spikes: mean over 2·81 elements.
    loss = artifact_loss(sr, gt, sr_ema)
    assert loss.item() == pytest.approx((expected[0, 1, 1] * a + expected[1, 1, 1] * b).item() / 162, rel=1e-6)


def test_the_map_is_zero_where_the_ema_residual_is_larger() -> None:
    a, b = 0.9, 0.3
    gt, sr = _spike_pair((a, b))
    sr_ema = gt.clone()
    sr_ema[..., :4] = 0.5  # EMA residual 0.5 in columns 0–3: larger than SR's except at the spike of 0.9
    refined = refined_artifact_map(gt, sr, sr_ema, window=7, exponent=0.2)[:, 0]
    expected = torch.stack([_hand_map(a), _hand_map(b)])
    zeroed = torch.zeros(2, 9, 9, dtype=torch.bool)
    zeroed[..., :4] = True
    zeroed[0, 1, 1] = False  # 0.9 > 0.5: SR is worse than the EMA there, the map keeps it
    assert torch.all(refined[zeroed] == 0)
    torch.testing.assert_close(refined[~zeroed], expected[~zeroed], rtol=1e-6, atol=1e-12)
    loss = artifact_loss(sr, gt, sr_ema)
    assert loss.item() == pytest.approx(expected[0, 1, 1].item() * a / 162, rel=1e-6)


@pytest.mark.parametrize("detach", [False, True])
def test_the_loss_is_l1_of_the_map_weighted_images(detach: bool) -> None:
    # The fused term against its definition, L1(M·SR, M·GT) over autograd, with a non-default window and exponent
    # (so that the config reaches the map), value and gradient.
    config = ArtifactMapConfig(window=5, exponent=0.5, detach=detach)
    gt, sr, sr_ema = _random_triplet(7)
    artifact_loss(sr, gt, sr_ema, config).backward()
    ours = sr.grad
    sr.grad = None
    weight = refined_artifact_map(gt.detach(), sr, sr_ema.detach(), window=5, exponent=0.5)
    weight = weight.detach() if detach else weight
    expected = F.l1_loss(weight * sr, weight * gt.detach())
    expected.backward()
    assert ours is not None and sr.grad is not None
    torch.testing.assert_close(artifact_loss(sr, gt, sr_ema, config), expected, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(ours, sr.grad, rtol=1e-9, atol=1e-14)
    assert gt.grad is None and sr_ema.grad is None


def _released_ldl_loss(gt: torch.Tensor, sr: torch.Tensor, sr_ema: torch.Tensor) -> torch.Tensor:
    """LDL's ``get_refined_artifact_map`` (basicsr/losses/LDL_loss.py in csjliang/LDL) and its use in the model
    classes, written out from the released code: unfold + unbiased var, no detach, in-place zeroing."""
    residual_ema = torch.sum(torch.abs(gt - sr_ema), 1, keepdim=True)
    residual_sr = torch.sum(torch.abs(gt - sr), 1, keepdim=True)
    patch_weight = torch.var(residual_sr.clone(), dim=(-1, -2, -3), keepdim=True) ** (1 / 5)
    padded = F.pad(residual_sr.clone(), [3, 3, 3, 3], mode="reflect")
    windows = padded.unfold(2, 7, 1).unfold(3, 7, 1)
    pixel_weight = torch.var(windows, dim=(-1, -2), unbiased=True, keepdim=True).squeeze(-1).squeeze(-1)
    overall = patch_weight * pixel_weight
    overall[residual_sr < residual_ema] = 0
    return F.l1_loss(overall * sr, overall * gt)


def _random_triplet(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    gt = torch.rand(2, 3, 12, 12, generator=generator, dtype=torch.float64)
    sr = gt + 0.2 * torch.randn(2, 3, 12, 12, generator=generator, dtype=torch.float64)
    sr_ema = gt + 0.2 * torch.randn(2, 3, 12, 12, generator=generator, dtype=torch.float64)
    return gt.requires_grad_(), sr.requires_grad_(), sr_ema.requires_grad_()


def test_the_gradient_reaches_sr_only_and_equals_the_released_codes() -> None:
    gt, sr, sr_ema = _random_triplet(5)
    ours = artifact_loss(sr, gt, sr_ema)
    ours.backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert gt.grad is None and sr_ema.grad is None
    our_grad = sr.grad.clone()

    sr.grad = None
    reference = _released_ldl_loss(gt.detach(), sr, sr_ema.detach())
    reference.backward()
    assert sr.grad is not None
    torch.testing.assert_close(ours, reference, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(our_grad, sr.grad, rtol=1e-7, atol=1e-12)


def test_a_detached_map_is_a_constant_weight() -> None:
    gt, sr, sr_ema = _random_triplet(6)
    artifact_loss(sr, gt, sr_ema, ArtifactMapConfig(detach=True)).backward()
    assert sr.grad is not None and gt.grad is None and sr_ema.grad is None
    weight = refined_artifact_map(gt.detach(), sr.detach(), sr_ema.detach())
    expected = weight * torch.sign(sr.detach() - gt.detach()) / sr.numel()  # d|M·(sr − gt)|/dsr = M·sign
    torch.testing.assert_close(sr.grad, expected, rtol=1e-10, atol=1e-14)
    # …which is not what the released code does: there the map's own gradient adds to this.
    detached_grad = sr.grad.clone()
    sr.grad = None
    artifact_loss(sr, gt, sr_ema).backward()
    assert sr.grad is not None and not torch.allclose(sr.grad, detached_grad)


def test_pixel_and_gan_losses() -> None:
    assert pixel_loss(torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.25)).item() == pytest.approx(0.25)
    logits = torch.tensor([[0.0], [2.0]])
    assert gan_loss(logits, real=True).item() == pytest.approx((math.log(2) + math.log(1 + math.exp(-2))) / 2)
    assert gan_loss(logits, real=False).item() == pytest.approx((math.log(2) + math.log(1 + math.exp(2))) / 2)
    reference = torch.tensor([[1.0], [3.0]])  # mean 2: the relativistic logits are −2 and 0
    assert relativistic_gan_loss(logits, reference, real=True).item() == pytest.approx(
        gan_loss(torch.tensor([-2.0, 0.0]), real=True).item()
    )


def test_perceptual_loss_is_the_weighted_l1_of_normalised_vgg_features() -> None:
    config = PerceptualConfig(layers=("conv1_2", "conv2_2"), layer_weights=(0.1, 1.0))
    vgg = random_vgg19(config.layers, seed=2)
    loss_module = PerceptualLoss(vgg, config)
    generator = torch.Generator().manual_seed(0)
    sr = torch.rand(2, 3, 16, 16, generator=generator, requires_grad=True)
    target = torch.rand(2, 3, 16, 16, generator=generator, requires_grad=True)
    loss = loss_module(sr, target)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    ours_features = vgg((sr - mean) / std)
    their_features = vgg((target - mean) / std)
    expected = sum(w * (a - b).abs().mean() for w, a, b in zip((0.1, 1.0), ours_features, their_features, strict=True))
    assert isinstance(expected, torch.Tensor)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert sr.grad is not None and target.grad is None
    assert all(p.grad is None and not p.requires_grad for p in vgg.parameters())
    assert loss_module(sr.detach(), sr.detach()).item() == 0.0


def test_perceptual_loss_refuses_a_vgg_for_other_layers() -> None:
    with pytest.raises(ValueError, match="needs"):
        PerceptualLoss(random_vgg19(["conv1_2"]), PerceptualConfig())


def _perceptual_pair(dtype: torch.dtype = torch.float32) -> tuple[PerceptualLoss, torch.Tensor, torch.Tensor]:
    """A loss around a random VGG in ``dtype`` (its statistics stay float32) and a float32 sr, target pair."""
    config = PerceptualConfig(layers=("conv1_2", "conv2_2"), layer_weights=(0.1, 1.0))
    generator = torch.Generator().manual_seed(0)
    sr, target = torch.rand(2, 2, 3, 16, 16, generator=generator)
    return PerceptualLoss(random_vgg19(config.layers, seed=2).to(dtype), config), sr, target


def test_perceptual_loss_keeps_the_vgg_frozen_in_eval_mode() -> None:
    loss_module, _, _ = _perceptual_pair()
    assert not loss_module.features.training
    assert loss_module.train() is loss_module and loss_module.training  # the trainer's switch reaches the module…
    assert not loss_module.features.training  # …but not the VGG
    assert not loss_module.train(False).training


def test_perceptual_loss_saves_only_the_vgg() -> None:
    # The ImageNet statistics are constants of the code, not state that a checkpoint should carry.
    loss_module, _, _ = _perceptual_pair()
    assert set(loss_module.state_dict()) == {f"features.{key}" for key in loss_module.features.state_dict()}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_perceptual_loss_in_another_precision_is_a_float32_sum(dtype: torch.dtype) -> None:
    # A VGG in half precision takes half inputs, normalised in their precision (the float32 statistics follow them);
    # the layers' L1s and their sum are float32 in any precision.
    reference, sr, target = _perceptual_pair()
    loss_module, _, _ = _perceptual_pair(dtype)
    loss = loss_module(sr.to(dtype), target.to(dtype))
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, reference(sr, target), rtol=1e-2 if dtype == torch.bfloat16 else 1e-6, atol=0)
