"""The procedure's arguments ↔ SubmitOptions: defaults from the contract, a lossless round trip, and every broken rule
named with a hint."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from ldl_gimp.arguments import NAMES, UpscaleArguments, from_options, read_arguments, to_options
from ldl_gimp.errors import InvalidArgument

from ldl_client import (
    DEFAULT_MODEL,
    DEFAULT_SOFTNESS,
    DEFAULT_THRESHOLD,
    Precision,
    ReferenceKind,
    ReferenceSource,
    SubmitOptions,
)


def test_defaults_are_the_contracts() -> None:
    defaults = UpscaleArguments.defaults()
    assert defaults == UpscaleArguments(
        model=DEFAULT_MODEL,
        factor=0,
        reference="lanczos",
        threshold=DEFAULT_THRESHOLD,
        softness=DEFAULT_SOFTNESS,
        selection_target="new-image",
        device="auto",
        precision="auto",
        tile=0,
    )
    assert to_options(defaults) == SubmitOptions()


def test_arguments_become_typed_options() -> None:
    arguments = UpscaleArguments(
        model=" realesr-animevideov3 ",
        factor=2,
        reference="model:realesrgan-x4plus",
        threshold=0.25,
        softness=0.5,
        selection_target="layer-group",
        device="CUDA:1",
        precision="FP16",
        tile=128,
    )
    options = to_options(arguments)
    assert options == SubmitOptions(
        model="realesr-animevideov3",
        scale=2,
        reference=ReferenceSource(ReferenceKind.MODEL, model_name="realesrgan-x4plus"),
        threshold=0.25,
        softness=0.5,
        device="cuda:1",
        precision=Precision.FP16,
        tile=128,
    )
    assert isinstance(options.precision, Precision)


@pytest.mark.parametrize(
    "options",
    [
        SubmitOptions(),
        SubmitOptions(model="realesr-animevideov3", scale=3, reference=ReferenceSource.parse("lanczos"), tile=16),
        SubmitOptions(reference=ReferenceSource.parse("tta:2"), precision=Precision.BF16, device="cpu"),
        SubmitOptions(threshold=0.0, softness=1.0, tile=8192),
    ],
)
def test_options_round_trip_through_the_arguments(options: SubmitOptions) -> None:
    for target in ("new-image", "layer-group"):
        arguments = from_options(options, target)
        assert arguments.selection_target == target
        assert to_options(arguments) == options


def test_a_fractional_scale_has_no_argument_form() -> None:
    with pytest.raises(ValueError, match="whole factor"):
        from_options(SubmitOptions(scale=1.5), "new-image")


@pytest.mark.parametrize(
    ("changes", "argument", "words"),
    [
        ({"model": "Not A Model"}, "model", "catalog id"),
        ({"factor": -1}, "factor", "model's own"),
        ({"factor": 17}, "factor", "1 to 16"),
        ({"reference": "tta:3"}, "reference", "2, 4 or 8"),
        ({"reference": "bicubic"}, "reference", "unknown reference"),
        ({"threshold": 1.5}, "threshold", "between 0 and 1"),
        ({"softness": -0.1}, "softness", "between 0 and 1"),
        ({"selection_target": "canvas"}, "selection-target", "new-image, layer-group"),
        ({"device": "gpu"}, "device", "cuda"),
        ({"precision": "fp8"}, "precision", "auto, fp32, fp16, bf16"),
        ({"tile": 8}, "tile", "0 (automatic)"),
        ({"tile": 9000}, "tile", "0 (automatic)"),
    ],
)
def test_a_broken_rule_names_the_argument_with_a_hint(changes: dict[str, Any], argument: str, words: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        to_options(replace(UpscaleArguments.defaults(), **changes))
    assert caught.value.argument == argument
    assert words in caught.value.message
    assert caught.value.hint, "every error carries a hint"
    assert "(hint: " in str(caught.value)


class FakeConfig:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.read: list[str] = []

    def get_property(self, name: str) -> Any:
        self.read.append(name)
        return self.values[name]


def test_arguments_are_read_from_a_config_by_their_pdb_names() -> None:
    values = {
        "model": "realesr-animevideov3",
        "factor": 2,
        "reference": "lanczos",
        "threshold": 0.5,
        "softness": 0.25,
        "selection-target": "layer-group",
        "device": "cpu",
        "precision": "fp32",
        "tile": 64,
    }
    config = FakeConfig(values)
    arguments = read_arguments(config)
    assert config.read == list(NAMES)
    assert arguments == UpscaleArguments(
        "realesr-animevideov3", 2, "lanczos", 0.5, 0.25, "layer-group", "cpu", "fp32", 64
    )
