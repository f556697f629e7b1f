"""Training configs: the presets hold the issue's values; TOML files round-trip and explain every mistake."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import ModuleType

import pytest

from ldl_backend.training import config_file
from ldl_backend.training.config import (
    PRESETS,
    REALWORLD,
    SYNTHETIC,
    DataSource,
    DiscriminatorKind,
    GanFormulation,
    PresetName,
    TrainingConfigError,
)
from ldl_backend.training.config_file import dump_config, load_config, parse_config


@pytest.mark.parametrize("preset", [SYNTHETIC, REALWORLD])
def test_shared_values_are_the_papers(preset) -> None:
    assert (preset.loss.pixel, preset.loss.artifact, preset.loss.perceptual) == (0.01, 1.0, 1.0)
    assert (preset.artifact_map.window, preset.artifact_map.exponent) == (7, 0.2)
    assert preset.artifact_map.detach is False  # the released code lets the gradient through the map
    assert preset.perceptual.layers == ("conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4")
    assert preset.perceptual.layer_weights == (0.1, 0.1, 1.0, 1.0, 1.0)
    assert preset.perceptual.imagenet_normalisation
    for optimizer in (preset.generator_optimizer, preset.discriminator_optimizer):
        assert (optimizer.lr, optimizer.betas, optimizer.weight_decay) == (1e-4, (0.9, 0.99), 0.0)
    assert preset.ema.decay == 0.999
    assert preset.data.scale == 4


def test_the_recipes_differ_where_the_paper_says() -> None:
    assert SYNTHETIC.loss.gan == 5e-3 and REALWORLD.loss.gan == 0.1
    assert (SYNTHETIC.data.patch, REALWORLD.data.patch) == (128, 256)
    assert (SYNTHETIC.data.source, REALWORLD.data.source) == (DataSource.BICUBIC_PAIRS, DataSource.DEGRADED_ON_THE_FLY)
    assert (SYNTHETIC.data.queue_size, REALWORLD.data.queue_size) == (0, 180)
    assert (SYNTHETIC.data.sharpen_gt, REALWORLD.data.sharpen_gt) == (False, True)
    assert SYNTHETIC.discriminator.kind is DiscriminatorKind.VGG128
    assert REALWORLD.discriminator.kind is DiscriminatorKind.UNET_SN and REALWORLD.discriminator.skip_connection
    # The synthetic model class of the release applies BCE to relativistic-average logits.
    assert SYNTHETIC.discriminator.formulation is GanFormulation.RELATIVISTIC_AVERAGE
    assert REALWORLD.discriminator.formulation is GanFormulation.STANDARD
    assert PRESETS[PresetName.SYNTHETIC] is SYNTHETIC and PRESETS[PresetName.REALWORLD] is REALWORLD


@pytest.mark.parametrize("preset", [SYNTHETIC, REALWORLD])
def test_dump_then_load_gives_the_same_config(preset, tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(dump_config(preset), encoding="utf-8")
    assert load_config(path) == preset


def test_a_changed_config_round_trips_too() -> None:
    changed = dataclasses.replace(
        REALWORLD,
        loss=dataclasses.replace(REALWORLD.loss, gan=1e-05, artifact=0.5),
        perceptual=dataclasses.replace(REALWORLD.perceptual, layers=("conv5_4",), layer_weights=(1.0,)),
        data=dataclasses.replace(REALWORLD.data, patch=192, batch=6, queue_size=18),
    )
    assert parse_config(dump_config(changed)) == changed


def test_a_file_overrides_only_what_it_names() -> None:
    config = parse_config('preset = "synthetic"\n[loss]\ngan = 0.02\n[data]\nbatch = 8\npatch = 96\n')
    assert config.loss == dataclasses.replace(SYNTHETIC.loss, gan=0.02)
    assert config.data == dataclasses.replace(SYNTHETIC.data, batch=8, patch=96)
    assert config.perceptual == SYNTHETIC.perceptual and config.run == SYNTHETIC.run


def test_integers_are_accepted_for_floats() -> None:
    assert parse_config('preset = "realworld"\n[loss]\nartifact = 2\n').loss.artifact == 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('preset = "realworld"\n[data]\npach = 64\n', "unknown key data.pach"),
        ('preset = "realworld"\n[los]\ngan = 1\n', "unknown key 'los'"),
        ('preset = "realworld"\nwindow = 7\n', "unknown key 'window'"),
        ('preset = "realworld"\n[artifact_map]\nwindow = 7\nsize = 3\n', "unknown key artifact_map.size"),
        ("[loss]\ngan = 1\n", "names no preset"),
        ('preset = "bicubic"\n', "preset 'bicubic' is unknown"),
        ('preset = "realworld"\nloss = 3\n', "loss is a value, not a section"),
        ('preset = "realworld"\n[loss]\ngan = "high"\n', r"loss.gan is 'high', expected a number"),
        ('preset = "realworld"\n[data]\npatch = 64.0\n', "data.patch is 64.0, expected a whole number"),
        ('preset = "realworld"\n[data]\nsharpen_gt = 1\n', "expected true or false"),
        ('preset = "realworld"\n[discriminator]\nkind = "patchgan"\n', '"vgg128", "unet_sn"'),
        ('preset = "realworld"\n[generator_optimizer]\nbetas = [0.9]\n', r"betas is \[0.9\], expected a list of 2"),
        ('preset = "realworld"\n[perceptual]\nlayers = ["conv6_1"]\n', "unknown, repeated or no layers"),
        ('preset = "realworld"\n[loss]\npixel = -1\n', r"loss.pixel is -1.0"),
        ('preset = "realworld"\n[artifact_map]\nwindow = 8\n', "artifact_map.window is 8"),
        ('preset = "realworld"\n[data]\nbatch = 7\n', "queue_size 180 is not a multiple of the batch 7"),
        ('preset = "synthetic"\n[data]\npatch = 112\n', "does not fit the vgg128 discriminator"),
        ('preset = "realworld"\n[loss\n', "not valid TOML"),
    ],
)
def test_mistakes_are_explained(text: str, message: str) -> None:
    with pytest.raises(TrainingConfigError, match=message) as caught:
        parse_config(text, "run.toml")
    assert caught.value.hint
    assert str(caught.value).startswith("run.toml")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingConfigError, match="could not be read"):
        load_config(tmp_path / "absent.toml")


def test_without_a_toml_reader_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def python_310_without_tomli(name: str, package: str | None = None) -> ModuleType:
        if name in ("tomllib", "tomli"):
            raise ModuleNotFoundError(name)
        return real_import(name, package)

    monkeypatch.setattr(config_file.importlib, "import_module", python_310_without_tomli)
    with pytest.raises(TrainingConfigError, match="tomli") as caught:
        parse_config('preset = "realworld"\n')
    assert "pip install tomli" in caught.value.hint
