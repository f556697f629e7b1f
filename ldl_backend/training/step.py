"""One iteration of LDL's GAN training: a generator step, one discriminator step, then the EMA update.

The order and the inputs of every term follow the model classes of csjliang/LDL
(``basicsr/models/esrganArtifactsDis_model.py`` for the synthetic recipe,
``realesrgan/models/realesrganArtifactsDis_model.py`` for the real-world one):

- G step, with D's parameters frozen: SR = G(LR), SR_ema = G_ema(LR) (no gradient);
  L = w_pix·L1(SR, GT') + w_art·L1(M ⊙ SR, M ⊙ GT) + w_per·Perceptual(SR, GT') + w_gan·GAN_G, where GT' is the
  unsharp-masked GT when the batch carries one (real-world) and GT otherwise; the artifact term and the
  discriminator always see the plain GT (``gan_gt_usm: False``).
- D step on GT (real) and SR detached (fake), the two halves back-propagated one after the other.
- EMA update of G.

A term whose weight is 0 is skipped and reported as 0.0; with a GAN weight of 0 the D step is skipped too (its
terms read 0.0). Generator terms are reported weighted, as they enter the total.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ldl_backend.engine.device import Precision
from ldl_backend.errors import LdlError
from ldl_backend.training.config import AdamConfig, GanFormulation, TrainingConfig
from ldl_backend.training.distributed import ModuleWrapper
from ldl_backend.training.ema import Ema
from ldl_backend.training.losses import PerceptualLoss, artifact_loss, gan_loss, pixel_loss, relativistic_gan_loss

_AUTOCAST_DTYPES = {Precision.FP16: torch.float16, Precision.BF16: torch.bfloat16}


@dataclass(frozen=True, eq=False)
class TrainingBatch:
    """LR inputs (N×3×h×w), GT (N×3×H×W, H = h·scale) and optionally GT' (GT's shape), floats in [0, 1]."""

    lq: torch.Tensor
    gt: torch.Tensor
    gt_sharp: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.lq.ndim != 4 or self.gt.ndim != 4 or self.lq.shape[:2] != self.gt.shape[:2]:
            raise ValueError(f"LR {tuple(self.lq.shape)} and GT {tuple(self.gt.shape)} are not matching N×C×H×W")
        if self.gt_sharp is not None and self.gt_sharp.shape != self.gt.shape:
            raise ValueError(f"GT' {tuple(self.gt_sharp.shape)} differs from GT {tuple(self.gt.shape)}")

    @property
    def pixel_target(self) -> torch.Tensor:
        """GT' when present (the L1 and perceptual target), else GT."""
        return self.gt if self.gt_sharp is None else self.gt_sharp


@dataclass(frozen=True)
class StepLosses:
    """Every loss of one iteration, as plain floats. Generator terms are weighted; D terms are unweighted (as
    BasicSR), with the mean logits D gave to real and fake images."""

    pixel: float
    artifact: float
    perceptual: float
    gan: float
    generator_total: float
    discriminator_real: float
    discriminator_fake: float
    real_logit: float
    fake_logit: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _adam(parameters: Iterator[nn.Parameter], config: AdamConfig) -> torch.optim.Adam:
    return torch.optim.Adam(parameters, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)


class GanStep:
    """Owns the optimisers, gradient scalers and the EMA of one training run; calling it runs one iteration.

    ``generator``, ``discriminator`` and ``perceptual`` must already be on the training device
    (``.to(device)``); batches are moved there. ``perceptual`` may be None only when the perceptual weight is 0.
    ``precision`` picks autocast (bf16 or fp16; fp16 also scales gradients) for the networks; the pixel, artifact
    and GAN losses are always computed in float32. ``wrap`` (``distributed.ddp_wrapper``) wraps G and D for their
    training passes; ``generator``/``discriminator``, the optimisers and the EMA keep the bare modules, and G's
    adversarial term runs the bare D (frozen there, so DDP has no gradients to average). Raises ``LdlError`` for
    fp16 on the CPU and ``ValueError`` for a missing perceptual loss.
    """

    def __init__(
        self,
        config: TrainingConfig,
        generator: nn.Module,
        discriminator: nn.Module,
        perceptual: PerceptualLoss | None,
        *,
        precision: Precision = Precision.FP32,
        ema: Ema | None = None,
        wrap: ModuleWrapper | None = None,
    ) -> None:
        if perceptual is None and config.loss.perceptual > 0:
            raise ValueError("the config weights a perceptual loss but none was given (build one with a VGG19)")
        self.device = next(generator.parameters()).device
        if precision is Precision.FP16 and self.device.type == "cpu":
            raise LdlError("fp16 training is not supported on the CPU", "use --precision bf16 or fp32")
        self.config = config
        self.generator = generator
        self.discriminator = discriminator
        self._training_generator = generator if wrap is None else wrap(generator)
        self._training_discriminator = discriminator if wrap is None else wrap(discriminator)
        self.perceptual = perceptual
        self.precision = precision
        self.ema = ema or Ema(generator, config.ema.decay)
        self.generator_optimizer = _adam(generator.parameters(), config.generator_optimizer)
        self.discriminator_optimizer = _adam(discriminator.parameters(), config.discriminator_optimizer)
        scaling = precision is Precision.FP16
        self.generator_scaler = torch.amp.GradScaler(self.device.type, enabled=scaling)
        self.discriminator_scaler = torch.amp.GradScaler(self.device.type, enabled=scaling)

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        dtype = _AUTOCAST_DTYPES.get(self.precision)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def __call__(self, batch: TrainingBatch) -> StepLosses:
        lq = batch.lq.to(self.device)
        gt = batch.gt.to(self.device)
        target = batch.pixel_target.to(self.device)
        self._training_generator.train()
        self._training_discriminator.train()
        sr, generator_terms = self._generator_step(lq, gt, target)
        # Without an adversarial term D cannot influence G: its step is skipped (PSNR-only training).
        discriminator_terms = self._discriminator_step(sr.detach(), gt) if self.config.loss.gan else (0.0,) * 4
        self.ema.update(self.generator)
        return StepLosses(*generator_terms, *discriminator_terms)

    def _generator_step(
        self, lq: torch.Tensor, gt: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[float, float, float, float, float]]:
        weights = self.config.loss
        self.discriminator.requires_grad_(False)
        self.generator_optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            sr = self._training_generator(lq)
            with torch.no_grad():
                sr_ema = self.ema.module(lq)
        sr32 = sr.float()
        zero = sr32.new_zeros(())
        pixel = weights.pixel * pixel_loss(sr32, target) if weights.pixel else zero
        artifact = (
            weights.artifact * artifact_loss(sr32, gt, sr_ema.float(), self.config.artifact_map)
            if weights.artifact
            else zero
        )
        perceptual = zero
        adversarial = zero
        with self._autocast():
            if weights.perceptual and self.perceptual is not None:
                perceptual = weights.perceptual * self.perceptual(sr, target)
            if weights.gan:
                adversarial = weights.gan * self._generator_gan(sr, gt)
        total = pixel + artifact + perceptual + adversarial
        self.generator_scaler.scale(total).backward()
        self.generator_scaler.step(self.generator_optimizer)
        self.generator_scaler.update()
        self.discriminator.requires_grad_(True)
        pixel_value, artifact_value, perceptual_value, gan_value, total_value = (
            float(term.detach()) for term in (pixel, artifact, perceptual, adversarial, total)
        )
        return sr, (pixel_value, artifact_value, perceptual_value, gan_value, total_value)

    def _generator_gan(self, sr: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        if self.config.discriminator.formulation is GanFormulation.STANDARD:
            return gan_loss(self.discriminator(sr).float(), real=True)
        # ESRGAN: the real logits are a detached reference, computed first (as the released model does).
        real = self.discriminator(gt).detach().float()
        fake = self.discriminator(sr).float()
        return (relativistic_gan_loss(real, fake, real=False) + relativistic_gan_loss(fake, real, real=True)) / 2

    def _discriminator_step(self, fake_images: torch.Tensor, gt: torch.Tensor) -> tuple[float, float, float, float]:
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        scaler = self.discriminator_scaler
        if self.config.discriminator.formulation is GanFormulation.STANDARD:
            with self._autocast():
                real = self._training_discriminator(gt).float()
            real_loss = gan_loss(real, real=True)
            scaler.scale(real_loss).backward()
            with self._autocast():
                fake = self._training_discriminator(fake_images).float()
            fake_loss = gan_loss(fake, real=False)
            scaler.scale(fake_loss).backward()
        else:
            # ESRGAN's halves, each weighted 0.5: real against the (detached) fake logits, then fake against the
            # detached real logits; three D forwards in the released order.
            with self._autocast():
                fake_reference = self._training_discriminator(fake_images).detach().float()
                real = self._training_discriminator(gt).float()
            real_loss = 0.5 * relativistic_gan_loss(real, fake_reference, real=True)
            scaler.scale(real_loss).backward()
            with self._autocast():
                fake = self._training_discriminator(fake_images).float()
            fake_loss = 0.5 * relativistic_gan_loss(fake, real.detach(), real=False)
            scaler.scale(fake_loss).backward()
        scaler.step(self.discriminator_optimizer)
        scaler.update()
        return (
            float(real_loss.detach()),
            float(fake_loss.detach()),
            float(real.detach().mean()),
            float(fake.detach().mean()),
        )
