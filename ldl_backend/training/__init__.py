"""LDL training: typed recipes, the loss terms (with the locally discriminative artifact term), the EMA and the
GAN step. Imported on first use (see lazy_exports.py), so reading a config does not load the networks."""

from typing import TYPE_CHECKING

from ldl_backend.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from ldl_backend.training.checkpoint import CheckpointError
    from ldl_backend.training.config import (
        PRESETS,
        REALWORLD,
        SYNTHETIC,
        AdamConfig,
        ArtifactMapConfig,
        DataConfig,
        DataSource,
        DiscriminatorConfig,
        DiscriminatorKind,
        EmaConfig,
        GanFormulation,
        LossWeights,
        PerceptualConfig,
        PresetName,
        RunConfig,
        SchedulerConfig,
        TrainingConfig,
        TrainingConfigError,
    )
    from ldl_backend.training.config_file import dump_config, load_config, parse_config
    from ldl_backend.training.data import TrainingSamples, find_training_images, training_loader
    from ldl_backend.training.ema import Ema
    from ldl_backend.training.export import export_generator
    from ldl_backend.training.images import TrainingDataError
    from ldl_backend.training.losses import (
        PerceptualLoss,
        artifact_loss,
        gan_loss,
        pixel_loss,
        relativistic_gan_loss,
    )
    from ldl_backend.training.networks import build_discriminator
    from ldl_backend.training.pair_queue import PairQueue
    from ldl_backend.training.sharpen import UnsharpMask, unsharp_mask
    from ldl_backend.training.step import GanStep, StepLosses, TrainingBatch
    from ldl_backend.training.trainer import Trainer, TrainerOptions, TrainingInterrupted
    from ldl_backend.training.vgg_weights import random_vgg19, vgg19_from_assets, vgg19_from_file

_CONFIG = "ldl_backend.training.config"
_EXPORTS = {
    **dict.fromkeys(
        [
            "PRESETS",
            "REALWORLD",
            "SYNTHETIC",
            "AdamConfig",
            "ArtifactMapConfig",
            "DataConfig",
            "DataSource",
            "DiscriminatorConfig",
            "DiscriminatorKind",
            "EmaConfig",
            "GanFormulation",
            "LossWeights",
            "PerceptualConfig",
            "PresetName",
            "RunConfig",
            "SchedulerConfig",
            "TrainingConfig",
            "TrainingConfigError",
        ],
        _CONFIG,
    ),
    **dict.fromkeys(["dump_config", "load_config", "parse_config"], "ldl_backend.training.config_file"),
    "CheckpointError": "ldl_backend.training.checkpoint",
    **dict.fromkeys(["TrainingSamples", "find_training_images", "training_loader"], "ldl_backend.training.data"),
    "Ema": "ldl_backend.training.ema",
    "export_generator": "ldl_backend.training.export",
    "TrainingDataError": "ldl_backend.training.images",
    **dict.fromkeys(
        ["PerceptualLoss", "artifact_loss", "gan_loss", "pixel_loss", "relativistic_gan_loss"],
        "ldl_backend.training.losses",
    ),
    "build_discriminator": "ldl_backend.training.networks",
    "PairQueue": "ldl_backend.training.pair_queue",
    **dict.fromkeys(["UnsharpMask", "unsharp_mask"], "ldl_backend.training.sharpen"),
    **dict.fromkeys(["GanStep", "StepLosses", "TrainingBatch"], "ldl_backend.training.step"),
    **dict.fromkeys(["Trainer", "TrainerOptions", "TrainingInterrupted"], "ldl_backend.training.trainer"),
    **dict.fromkeys(["random_vgg19", "vgg19_from_assets", "vgg19_from_file"], "ldl_backend.training.vgg_weights"),
}
__getattr__ = lazy_getattr(__name__, _EXPORTS)

__all__ = [
    "PRESETS",
    "REALWORLD",
    "SYNTHETIC",
    "AdamConfig",
    "ArtifactMapConfig",
    "CheckpointError",
    "DataConfig",
    "DataSource",
    "DiscriminatorConfig",
    "DiscriminatorKind",
    "Ema",
    "EmaConfig",
    "GanFormulation",
    "GanStep",
    "LossWeights",
    "PairQueue",
    "PerceptualConfig",
    "PerceptualLoss",
    "PresetName",
    "RunConfig",
    "SchedulerConfig",
    "StepLosses",
    "Trainer",
    "TrainerOptions",
    "TrainingBatch",
    "TrainingConfig",
    "TrainingConfigError",
    "TrainingDataError",
    "TrainingInterrupted",
    "TrainingSamples",
    "UnsharpMask",
    "artifact_loss",
    "build_discriminator",
    "dump_config",
    "export_generator",
    "find_training_images",
    "gan_loss",
    "load_config",
    "parse_config",
    "pixel_loss",
    "random_vgg19",
    "relativistic_gan_loss",
    "training_loader",
    "unsharp_mask",
    "vgg19_from_assets",
    "vgg19_from_file",
]
