"""Typed configuration of LDL training, and the paper's two recipes as named constants.

Every value of :data:`SYNTHETIC` and :data:`REALWORLD` comes from issue 9 or, where the issue is silent (marked
"released config"), from the files the LDL authors published in csjliang/LDL:
``options/train/LDL/train_Synthetic_LDL.yml`` and ``options/train/LDL/train_Realworld_LDL.yml``, read together
with the model classes that consume them (``basicsr/models/esrganArtifactsDis_model.py`` and
``realesrgan/models/realesrganArtifactsDis_model.py``). Files load through ``config_file.load_config``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from ldl_backend.archs.vgg import VGG19_LAYERS
from ldl_backend.errors import LdlError


class TrainingConfigError(LdlError, ValueError):
    """A training setting is missing, unknown or out of range (also a ValueError, as configuration errors are)."""

    code = "bad_training_config"


class PresetName(str, Enum):
    SYNTHETIC = "synthetic"
    REALWORLD = "realworld"


class DataSource(str, Enum):
    """Where LR inputs come from: given bicubic pairs (synthetic) or Real-ESRGAN's degradation on the fly."""

    BICUBIC_PAIRS = "bicubic_pairs"
    DEGRADED_ON_THE_FLY = "degraded_on_the_fly"


class DiscriminatorKind(str, Enum):
    # ESRGAN's VGG-style classifier, published for 128×128 inputs; built here for the HR patch size.
    VGG128 = "vgg128"
    # Real-ESRGAN's U-Net with spectral normalisation and skip connections (per-pixel logits).
    UNET_SN = "unet_sn"


class GanFormulation(str, Enum):
    """How the BCE-with-logits ("vanilla") adversarial loss is applied.

    STANDARD: D(x) against labels 1/0 (Real-ESRGAN's model class, LDL's real-world recipe).
    RELATIVISTIC_AVERAGE: D(x) − mean D(other) against labels 1/0 (ESRGAN's model class). LDL's synthetic
    recipe names ``gan_type: vanilla`` in its YAML, but the model class it runs, ``ESRGANArtifactsDisModel``,
    feeds the BCE with relativistic-average logits; the preset follows the code that produced the paper.
    """

    STANDARD = "standard"
    RELATIVISTIC_AVERAGE = "relativistic_average"


def _error(message: str, hint: str) -> TrainingConfigError:
    return TrainingConfigError(message, hint)


def _check_finite_nonnegative(section: str, name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise _error(f"{section}.{name} is {value}", f"use a finite value ≥ 0 for {section}.{name}")


def _check_positive_int(section: str, name: str, value: int) -> None:
    if value < 1:
        raise _error(f"{section}.{name} is {value}", f"use a positive whole number for {section}.{name}")


@dataclass(frozen=True)
class LossWeights:
    """Weights of the generator's loss terms; a weight of 0 leaves that term out of the step."""

    gan: float
    pixel: float = 0.01
    artifact: float = 1.0
    perceptual: float = 1.0

    def __post_init__(self) -> None:
        for name in ("gan", "pixel", "artifact", "perceptual"):
            _check_finite_nonnegative("loss", name, getattr(self, name))


@dataclass(frozen=True)
class ArtifactMapConfig:
    """LDL's artifact map (``ldl_backend.artifacts.training_map``): window and patch-weight exponent.

    ``detach``: False (the released code) lets the loss's gradient flow through the map into SR as well; True
    treats the map as a constant weight. LDL's ``get_refined_artifact_map`` computes the map from the live SR
    tensor without ``detach``/``no_grad`` (``basicsr/losses/LDL_loss.py``), so False reproduces the paper.
    """

    window: int = 7
    exponent: float = 0.2
    detach: bool = False

    def __post_init__(self) -> None:
        if self.window < 3 or self.window % 2 == 0:
            raise _error(f"artifact_map.window is {self.window}", "use an odd window of at least 3 (the paper: 7)")
        if not math.isfinite(self.exponent) or self.exponent <= 0:
            raise _error(f"artifact_map.exponent is {self.exponent}", "use a positive exponent (the paper: 0.2)")


@dataclass(frozen=True)
class PerceptualConfig:
    """VGG19 layers (pre-ReLU convolutions, by BasicSR's names) and their weights; L1 between features."""

    layers: tuple[str, ...] = ("conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4")
    layer_weights: tuple[float, ...] = (0.1, 0.1, 1.0, 1.0, 1.0)
    imagenet_normalisation: bool = True

    def __post_init__(self) -> None:
        unknown = [name for name in self.layers if name not in VGG19_LAYERS]
        if unknown or not self.layers or len(set(self.layers)) != len(self.layers):
            raise _error(
                f"perceptual.layers {list(self.layers)} has unknown, repeated or no layers",
                "name distinct VGG19 layers such as conv1_2, conv2_2, conv3_4, conv4_4, conv5_4",
            )
        if len(self.layer_weights) != len(self.layers):
            raise _error(
                f"{len(self.layer_weights)} perceptual.layer_weights for {len(self.layers)} layers",
                "give one weight per layer, in the same order",
            )
        for weight in self.layer_weights:
            _check_finite_nonnegative("perceptual", "layer_weights", weight)

    @property
    def min_input_side(self) -> int:
        """The smallest input side for which every requested layer has at least one pixel (2 ** max-pools)."""
        deepest = max(VGG19_LAYERS.index(name) for name in self.layers)
        return 2 ** sum(name.startswith("pool") for name in VGG19_LAYERS[: deepest + 1])


@dataclass(frozen=True)
class AdamConfig:
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise _error(f"optimizer lr is {self.lr}", "use a positive learning rate (the paper: 1e-4)")
        if not all(0.0 <= beta < 1.0 for beta in self.betas):
            raise _error(f"optimizer betas are {self.betas}", "use two values in [0, 1), e.g. (0.9, 0.99)")
        _check_finite_nonnegative("optimizer", "weight_decay", self.weight_decay)


@dataclass(frozen=True)
class SchedulerConfig:
    """MultiStepLR: the learning rate is multiplied by ``gamma`` at each milestone iteration (released config)."""

    milestones: tuple[int, ...]
    gamma: float

    def __post_init__(self) -> None:
        if list(self.milestones) != sorted(set(self.milestones)) or any(m < 1 for m in self.milestones):
            raise _error(f"scheduler.milestones {self.milestones}", "list increasing positive iteration numbers")
        if not math.isfinite(self.gamma) or self.gamma <= 0:
            raise _error(f"scheduler.gamma is {self.gamma}", "use a positive factor (1 keeps the rate)")


@dataclass(frozen=True)
class EmaConfig:
    decay: float = 0.999

    def __post_init__(self) -> None:
        if not 0.0 <= self.decay < 1.0:
            raise _error(f"ema.decay is {self.decay}", "use a value in [0, 1) (the paper: 0.999)")


@dataclass(frozen=True)
class DataConfig:
    """Training crops. ``patch`` is the HR side; ``batch`` is per process (the released configs ran four GPUs
    with these per-GPU batches). ``queue_size`` > 0 shuffles samples through a pool of that many (Real-ESRGAN's
    training-pair pool); ``sharpen_gt`` uses the unsharp-masked GT (GT') for the L1 and perceptual terms."""

    source: DataSource
    patch: int
    batch: int
    queue_size: int
    sharpen_gt: bool
    rotate: bool
    hflip: bool = True
    scale: int = 4

    def __post_init__(self) -> None:
        _check_positive_int("data", "patch", self.patch)
        _check_positive_int("data", "batch", self.batch)
        if self.scale not in (1, 2, 4):
            raise _error(f"data.scale is {self.scale}", "use 1, 2 or 4 (the generators' scales)")
        if self.patch % self.scale:
            raise _error(f"data.patch {self.patch} is not a multiple of the scale {self.scale}", "round the patch")
        if self.queue_size < 0 or (self.queue_size and self.queue_size % self.batch):
            raise _error(
                f"data.queue_size {self.queue_size} is not a multiple of the batch {self.batch}",
                "use 0 (no queue) or a multiple of the batch, e.g. 180 with a batch of 4",
            )


@dataclass(frozen=True)
class DiscriminatorConfig:
    kind: DiscriminatorKind
    formulation: GanFormulation
    num_feat: int = 64
    skip_connection: bool = True  # U-Net only

    def __post_init__(self) -> None:
        _check_positive_int("discriminator", "num_feat", self.num_feat)


@dataclass(frozen=True)
class RunConfig:
    """Length and intervals (released configs: val_freq and save_checkpoint_freq 5e3, print_freq 100, seed 0)."""

    iterations: int
    validation_interval: int = 5000
    checkpoint_interval: int = 5000
    log_interval: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("iterations", "validation_interval", "checkpoint_interval", "log_interval"):
            _check_positive_int("run", name, getattr(self, name))
        if self.seed < 0:
            raise _error(f"run.seed is {self.seed}", "use a seed ≥ 0")


@dataclass(frozen=True)
class TrainingConfig:
    """One training recipe. ``preset`` names the recipe a config file starts from (its other keys override)."""

    preset: PresetName
    loss: LossWeights
    data: DataConfig
    discriminator: DiscriminatorConfig
    scheduler: SchedulerConfig
    run: RunConfig
    artifact_map: ArtifactMapConfig = field(default_factory=ArtifactMapConfig)
    perceptual: PerceptualConfig = field(default_factory=PerceptualConfig)
    generator_optimizer: AdamConfig = field(default_factory=AdamConfig)
    discriminator_optimizer: AdamConfig = field(default_factory=AdamConfig)
    ema: EmaConfig = field(default_factory=EmaConfig)

    def __post_init__(self) -> None:
        patch = self.data.patch
        multiple = 32 if self.discriminator.kind is DiscriminatorKind.VGG128 else 8
        if patch % multiple:
            raise _error(
                f"data.patch {patch} does not fit the {self.discriminator.kind.value} discriminator",
                f"use a patch that is a multiple of {multiple}",
            )
        needed = self.perceptual.min_input_side
        if self.loss.perceptual > 0 and patch < needed:
            raise _error(f"data.patch {patch} is too small for the perceptual layers", f"use at least {needed}")
        if patch < self.artifact_map.window:
            raise _error(f"data.patch {patch} is smaller than the artifact window", "use a larger patch")


# Shared by both recipes (issue 9): L1 0.01, artifact 1.0, perceptual 1.0 on conv1_2…conv5_4 before ReLU with
# weights 0.1, 0.1, 1, 1, 1 and ImageNet normalisation; Adam lr 1e-4, betas (0.9, 0.99) for G and D (released
# configs: weight_decay 0); EMA 0.999; one D step per G step; window 7, exponent 1/5.

SYNTHETIC = TrainingConfig(
    preset=PresetName.SYNTHETIC,
    loss=LossWeights(gan=5e-3),
    # HR 128 with bicubic ×4 LR (issue); batch 16 per GPU, flips and rotations (released config).
    data=DataConfig(source=DataSource.BICUBIC_PAIRS, patch=128, batch=16, queue_size=0, sharpen_gt=False, rotate=True),
    discriminator=DiscriminatorConfig(kind=DiscriminatorKind.VGG128, formulation=GanFormulation.RELATIVISTIC_AVERAGE),
    # Released config: 300k iterations, MultiStepLR with gamma 1 (a constant rate).
    scheduler=SchedulerConfig(milestones=(300_000,), gamma=1.0),
    run=RunConfig(iterations=300_000),
)

REALWORLD = TrainingConfig(
    preset=PresetName.REALWORLD,
    loss=LossWeights(gan=0.1),
    # HR 256 degraded on the fly, queue of 180, GT' for L1 and perceptual (issue); batch 4 per GPU, horizontal
    # flips only (released config).
    data=DataConfig(
        source=DataSource.DEGRADED_ON_THE_FLY, patch=256, batch=4, queue_size=180, sharpen_gt=True, rotate=False
    ),
    discriminator=DiscriminatorConfig(kind=DiscriminatorKind.UNET_SN, formulation=GanFormulation.STANDARD),
    # Released config: 400k iterations, the rate halved at 400k (i.e. never within the run).
    scheduler=SchedulerConfig(milestones=(400_000,), gamma=0.5),
    run=RunConfig(iterations=400_000),
)

PRESETS = MappingProxyType({PresetName.SYNTHETIC: SYNTHETIC, PresetName.REALWORLD: REALWORLD})
"""The recipes by name (read-only)."""
