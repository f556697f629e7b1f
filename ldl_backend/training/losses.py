"""The generator's and discriminator's loss terms of LDL training.

Each follows BasicSR's implementation that LDL's released configs select (``basicsr/losses/losses.py`` and
``basicsr/losses/LDL_loss.py`` in csjliang/LDL): L1 with mean reduction; the perceptual loss as the weighted sum
over VGG19 layers of the mean L1 between features, the target's features computed without gradient; the vanilla
GAN loss as BCE-with-logits against labels 1 (real) and 0 (fake).

The artifact term is ``ldl_backend.artifacts.training_map.artifact_l1``, built on the one implementation of the map.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ldl_backend.archs.vgg import Vgg19Features
from ldl_backend.artifacts.training_map import artifact_l1
from ldl_backend.training.config import ArtifactMapConfig, PerceptualConfig

# torchvision's ImageNet statistics for inputs in [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def pixel_loss(sr: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error between two N×C×H×W tensors (a 0-d tensor)."""
    return F.l1_loss(sr, target)


def artifact_loss(
    sr: torch.Tensor, gt: torch.Tensor, sr_ema: torch.Tensor, config: ArtifactMapConfig | None = None
) -> torch.Tensor:
    """LDL's locally discriminative term: L1(M ⊙ SR, M ⊙ GT), mean over all N·C·H·W elements (a 0-d tensor).

    M (N×1×H×W, broadcast over channels) = ``refined_artifact_map(gt, sr, sr_ema, window, exponent)``: zero
    where the EMA generator's residual is larger than SR's. ``gt`` and ``sr_ema`` receive no gradient.

    The gradient reaches ``sr`` through both factors, M and SR, unless ``config.detach``. That is what the
    released code does: ``esrganArtifactsDis_model.py`` and ``realesrganArtifactsDis_model.py`` (csjliang/LDL)
    call ``get_refined_artifact_map(self.gt, self.output, self.output_ema, 7)`` on the live output, and the map
    (``basicsr/losses/LDL_loss.py``) is built from ``residual_SR.clone()`` with no ``detach`` or ``no_grad``;
    only the boolean refinement ``overall_weight[residual_SR < residual_ema] = 0`` carries no gradient.
    Raises ``ValueError`` for mismatched shapes (from the map).
    """
    config = config or ArtifactMapConfig()
    return artifact_l1(gt, sr, sr_ema, window=config.window, exponent=config.exponent, detach_map=config.detach)


def gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Vanilla GAN loss: BCE-with-logits of ``logits`` (any shape) against all-1 (``real``) or all-0 labels."""
    labels = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, labels)


def relativistic_gan_loss(logits: torch.Tensor, reference: torch.Tensor, real: bool) -> torch.Tensor:
    """ESRGAN's relativistic-average form: ``gan_loss(logits − mean(reference), real)``."""
    return gan_loss(logits - reference.mean(), real)


class PerceptualLoss(nn.Module):
    """Σ_layers weight · L1(VGG(SR), VGG(target)) over ``config.layers`` (features before ReLU).

    ``features`` must extract exactly ``config.layers`` (``ValueError`` otherwise); it is frozen here (eval mode,
    no parameter gradients). Inputs: N×3×H×W in [0, 1], normalised with ImageNet statistics when
    ``config.imagenet_normalisation``; the target's features are computed without gradient.
    """

    def __init__(self, features: Vgg19Features, config: PerceptualConfig | None = None) -> None:
        super().__init__()
        self.config = config or PerceptualConfig()
        if features.layers != self.config.layers:
            raise ValueError(f"the VGG extracts {features.layers}, the loss needs {self.config.layers}")
        self.features = features.eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> PerceptualLoss:
        # The VGG stays in eval mode whatever the trainer switches (it has no dropout or batch norm today; a
        # future variant with batch norm must not update its statistics on SR outputs).
        super().train(mode)
        self.features.eval()
        return self

    def _normalise(self, images: torch.Tensor) -> torch.Tensor:
        if not self.config.imagenet_normalisation:
            return images
        mean = self.get_buffer("mean").to(images.dtype)
        std = self.get_buffer("std").to(images.dtype)
        return (images - mean) / std

    def forward(self, sr: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        sr_features = self.features(self._normalise(sr))
        with torch.no_grad():
            target_features = self.features(self._normalise(target.detach()))
        total = sr.new_zeros((), dtype=torch.float32)
        for weight, ours, theirs in zip(self.config.layer_weights, sr_features, target_features, strict=True):
            if weight:
                total = total + weight * F.l1_loss(ours.float(), theirs.float())
        return total
