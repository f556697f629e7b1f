"""The GAN step on real photo crops with a tiny RRDBNet (2 blocks, 16 features), a random VGG19 and each
discriminator: every term finite, the artifact term non-zero, EMA ≠ G, D frozen during the G step, the
pixel-only part lowers the loss of a fixed batch, and a seed fixes every loss."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from skimage import data as skimage_data
from torch import nn

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.degradations.imresize import imresize_torch
from ldl_backend.degradations.realesrgan import degrade_batch
from ldl_backend.engine.device import Precision
from ldl_backend.errors import LdlError
from ldl_backend.training.config import REALWORLD, SYNTHETIC, AdamConfig, GanFormulation, LossWeights, TrainingConfig
from ldl_backend.training.losses import PerceptualLoss, artifact_loss
from ldl_backend.training.networks import build_discriminator
from ldl_backend.training.sharpen import unsharp_mask
from ldl_backend.training.step import GanStep, StepLosses, TrainingBatch
from ldl_backend.training.vgg_weights import random_vgg19

PATCH = 64


def _photos() -> torch.Tensor:
    crops = [skimage_data.astronaut()[40:104, 180:244], skimage_data.chelsea()[100:164, 150:214]]
    return torch.from_numpy(np.stack(crops).astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()


def _small(preset: TrainingConfig, **changes: object) -> TrainingConfig:
    """The preset at 64-px crops, batch 2, no queue, a 16-feature discriminator (the recipe's maths unchanged)."""
    data = dataclasses.replace(preset.data, patch=PATCH, batch=2, queue_size=0)
    discriminator = dataclasses.replace(preset.discriminator, num_feat=16)
    return dataclasses.replace(preset, data=data, discriminator=discriminator, **changes)


def _batch(config: TrainingConfig, seed: int = 0) -> TrainingBatch:
    gt = _photos()
    if not config.data.sharpen_gt:
        return TrainingBatch(imresize_torch(gt, 1 / config.data.scale), gt)
    # Real-ESRGAN degrades the sharpened GT and trains the L1 and perceptual terms against it.
    sharp = unsharp_mask(gt)
    lq = degrade_batch(sharp, config.data.scale, np.random.default_rng(seed), torch.Generator().manual_seed(seed))
    return TrainingBatch(lq, gt, sharp)


def _tiny_generator() -> RRDBNet:
    return RRDBNet(RRDBNetConfig(num_block=2, num_feat=16, num_grow_ch=8))


@pytest.fixture(scope="module")
def pixel_only_run() -> tuple[dict[str, torch.Tensor], list[StepLosses], float]:
    """30 steps of the PSNR-only part (pixel L1 alone) on one fixed batch, from a seeded random generator.

    A learning rate of 2e-3 (not the recipe's 1e-4) so that a randomly initialised network moves visibly in 30
    steps; the result stands in for the PSNR-oriented model both recipes start from.
    """
    config = _small(
        SYNTHETIC,
        loss=LossWeights(gan=0.0, pixel=1.0, artifact=0.0, perceptual=0.0),
        generator_optimizer=AdamConfig(lr=2e-3),
    )
    torch.manual_seed(0)
    generator = _tiny_generator()
    step = GanStep(config, generator, build_discriminator(config), None)
    batch = _batch(config)
    history = [step(batch) for _ in range(30)]
    with torch.no_grad():
        final = float((generator(batch.lq) - batch.gt).abs().mean())
    return generator.state_dict(), history, final


def test_the_pixel_only_part_lowers_the_loss_of_a_fixed_batch(pixel_only_run) -> None:
    _, history, final = pixel_only_run
    first = history[0].pixel
    assert all(h.artifact == h.perceptual == h.gan == h.discriminator_real == 0.0 for h in history)
    assert final < 0.5 * first
    assert np.mean([h.pixel for h in history[-5:]]) < np.mean([h.pixel for h in history[:5]])


def _run(preset: TrainingConfig, init: dict[str, torch.Tensor], steps: int, seed: int = 0):
    config = _small(preset)
    torch.manual_seed(seed)
    generator = _tiny_generator()
    generator.load_state_dict(init)
    discriminator = build_discriminator(config)
    perceptual = PerceptualLoss(random_vgg19(config.perceptual.layers, seed), config.perceptual)
    step = GanStep(config, generator, discriminator, perceptual)
    batch = _batch(config, seed)
    return [step(batch) for _ in range(steps)], step


@pytest.mark.parametrize("preset", [SYNTHETIC, REALWORLD], ids=["synthetic", "realworld"])
def test_each_preset_trains_and_is_deterministic(preset: TrainingConfig, pixel_only_run) -> None:
    init = pixel_only_run[0]
    losses, step = _run(preset, init, steps=3)
    for record in losses:
        assert all(math.isfinite(value) for value in record.as_dict().values()), record
        assert record.pixel > 0 and record.perceptual > 0 and record.gan > 0
        assert record.discriminator_real > 0 and record.discriminator_fake > 0
        total = record.pixel + record.artifact + record.perceptual + record.gan
        assert record.generator_total == pytest.approx(total, rel=1e-5)
    # From step 2 on, G and the EMA differ and the refinement zeroes part of the map; the term stays non-zero.
    assert all(record.artifact > 0 for record in losses)
    ema_weights = step.ema.module.state_dict()
    changed = [not torch.equal(value, ema_weights[name]) for name, value in step.generator.state_dict().items()]
    assert all(changed)
    assert not torch.equal(step.generator.state_dict()["conv_first.weight"], init["conv_first.weight"])
    again, _ = _run(preset, init, steps=3)
    assert again == losses


class _Spy(nn.Module):
    """Records, for each forward, whether the wrapped discriminator's parameters required gradients."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(all(p.requires_grad for p in self.inner.parameters()))
        return self.inner(x)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        # ESRGAN: D(GT) then D(SR) in the G step; D(SR), D(GT), D(SR) in the D step.
        (SYNTHETIC, [False, False, True, True, True]),
        # Real-ESRGAN: D(SR) in the G step; D(GT), D(SR) in the D step.
        (REALWORLD, [False, True, True]),
    ],
    ids=["relativistic", "standard"],
)
def test_the_discriminator_is_frozen_during_the_generator_step(
    preset: TrainingConfig, expected: list[bool], pixel_only_run
) -> None:
    config = _small(preset, loss=dataclasses.replace(preset.loss, perceptual=0.0))
    assert config.discriminator.formulation is (
        GanFormulation.RELATIVISTIC_AVERAGE if preset is SYNTHETIC else GanFormulation.STANDARD
    )
    generator = _tiny_generator()
    generator.load_state_dict(pixel_only_run[0])
    spy = _Spy(build_discriminator(config))
    before = [p.detach().clone() for p in spy.parameters()]
    GanStep(config, generator, spy, None)(_batch(config))
    assert spy.calls == expected
    assert all(p.requires_grad for p in spy.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, spy.parameters(), strict=True))


def test_bf16_autocast_step_runs_on_the_cpu(pixel_only_run) -> None:
    config = _small(REALWORLD, loss=dataclasses.replace(REALWORLD.loss, perceptual=0.0))
    generator = _tiny_generator()
    generator.load_state_dict(pixel_only_run[0])
    step = GanStep(config, generator, build_discriminator(config), None, precision=Precision.BF16)
    record = step(_batch(config))
    assert all(math.isfinite(value) for value in record.as_dict().values())
    assert record.artifact > 0


def test_fp16_on_the_cpu_and_a_missing_perceptual_loss_are_refused() -> None:
    config = _small(REALWORLD)
    without_perceptual = _small(REALWORLD, loss=dataclasses.replace(REALWORLD.loss, perceptual=0.0))
    with pytest.raises(LdlError, match="fp16") as caught:
        GanStep(without_perceptual, _tiny_generator(), build_discriminator(config), None, precision=Precision.FP16)
    assert "bf16" in caught.value.hint
    with pytest.raises(ValueError, match="perceptual"):
        GanStep(config, _tiny_generator(), build_discriminator(config), None)


def test_batches_are_checked() -> None:
    with pytest.raises(ValueError, match="not matching"):
        TrainingBatch(torch.rand(2, 3, 16, 16), torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError, match="differs"):
        TrainingBatch(torch.rand(2, 3, 16, 16), torch.rand(2, 3, 64, 64), torch.rand(2, 3, 32, 32))


def test_the_artifact_term_is_its_weight_times_the_loss() -> None:
    # A weight other than 0 and 1: a step that dropped or doubled the weight would report another number.
    weight = 0.37
    config = _small(SYNTHETIC, loss=LossWeights(gan=0.0, pixel=0.0, artifact=weight, perceptual=0.0))
    torch.manual_seed(0)
    generator = _tiny_generator()
    step = GanStep(config, generator, build_discriminator(config), None)
    batch = _batch(config)
    # G's output as the step computes it, with gradients on: oneDNN's training-mode convolutions differ from the
    # no-grad ones (the EMA's) in the last bits, and the refinement's ties follow those bits.
    sr = generator(batch.lq).detach()
    with torch.no_grad():
        sr_ema = step.ema.module(batch.lq)
    unweighted = float(artifact_loss(sr, batch.gt, sr_ema, config.artifact_map))
    assert unweighted > 0
    record = step(batch)
    assert record.artifact == pytest.approx(weight * unweighted, rel=1e-6)
    assert record.generator_total == pytest.approx(weight * unweighted, rel=1e-6)
