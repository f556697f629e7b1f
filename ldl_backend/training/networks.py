"""The discriminator a training config asks for, sized for its HR patch."""

from __future__ import annotations

from torch import nn

from ldl_backend.archs.discriminators import UNetDiscriminatorSN, VGGStyleDiscriminator
from ldl_backend.training.config import DiscriminatorKind, TrainingConfig


def build_discriminator(config: TrainingConfig, in_channels: int = 3) -> nn.Module:
    """A freshly initialised discriminator of ``config.discriminator.kind`` for ``config.data.patch`` crops
    (PyTorch's default initialisation, as BasicSR builds them for LDL's recipes)."""
    settings = config.discriminator
    if settings.kind is DiscriminatorKind.VGG128:
        return VGGStyleDiscriminator(in_channels, settings.num_feat, input_size=config.data.patch)
    return UNetDiscriminatorSN(in_channels, settings.num_feat, skip_connection=settings.skip_connection)
