"""The architecture registry itself: every spec round-trips through detection and states sane facts; detection
finds whatever specs the registry it is given holds, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.engine.tile_planner import TileCost
from ldl_backend.errors import LdlError, UnknownArchitectureError
from ldl_backend.models.architectures.registry import BUILTIN_SPECS, architecture_spec, spec_for_config
from ldl_backend.models.architectures.spec import Architecture, ArchitectureSpec
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.detection import ArchitectureRegistry, default_registry
from ldl_backend.models.mismatch import DetectionMismatch
from tests.models.made_up_architecture import Shuffle, ShuffleConfig

_SPEC_IDS = [spec.architecture for spec in BUILTIN_SPECS]


@pytest.mark.parametrize("spec", BUILTIN_SPECS, ids=_SPEC_IDS)
def test_every_spec_detects_the_network_it_builds(spec: ArchitectureSpec[Any]) -> None:
    config = spec.config_type()  # every config class has usable defaults (the released models' shape)
    # Detection reads only keys and shapes, so the meta device makes even the full-size default free to build.
    with torch.device("meta"):
        state_dict = spec.build(config).state_dict()

    assert spec.detect(spec.normalize(state_dict)) == config
    descriptor = default_registry().detect(state_dict).descriptor
    assert descriptor.spec is spec
    assert descriptor.config == config
    assert descriptor.architecture == spec.architecture
    assert (descriptor.supports_fp16, descriptor.supports_bf16) == (spec.supports_fp16, spec.supports_bf16)


@pytest.mark.parametrize("spec", BUILTIN_SPECS, ids=_SPEC_IDS)
def test_every_spec_states_sane_facts(spec: ArchitectureSpec[Any]) -> None:
    config = spec.config_type()
    assert spec.tile_context(config) > 0
    half, single = spec.activation_bytes_per_pixel(config, 2), spec.activation_bytes_per_pixel(config, 4)
    assert 0 < half <= single
    for half in (False, True):
        points = spec.cpu_rates.by_area(half)
        TileCost(rates=points)  # rising areas, positive rates
        assert all(area >= 64 * 64 for area, _ in points)
    assert spec.prior_seconds_per_megapixel > 0
    assert architecture_spec(spec.architecture) is spec
    assert spec_for_config(config) is spec


def test_the_registry_covers_every_id_once() -> None:
    ids = [spec.architecture for spec in BUILTIN_SPECS]
    assert len(set(ids)) == len(ids) and set(ids) == {"RRDBNet", "SRVGGNetCompact", "SwinIR"}
    assert len({spec.config_type for spec in BUILTIN_SPECS}) == len(BUILTIN_SPECS)


def test_priors_are_the_time_estimates_seconds_per_output_megapixel() -> None:
    priors = {value: architecture_spec(value).prior_seconds_per_megapixel for value in _SPEC_IDS}
    assert priors == {"RRDBNet": 6.5, "SRVGGNetCompact": 0.7, "SwinIR": 15.0}


def test_an_unknown_id_is_refused_with_the_known_ones() -> None:
    with pytest.raises(LdlError, match="no architecture is called 'rrdbnet'") as caught:
        architecture_spec("rrdbnet")
    assert "RRDBNet" in caught.value.hint and "SwinIR" in caught.value.hint
    with pytest.raises(TypeError, match="no registered architecture"):
        spec_for_config(object())


def test_a_descriptor_refuses_a_config_of_another_architecture() -> None:
    with pytest.raises(ValueError, match="RRDBNetConfig is not a SwinIR config"):
        ModelDescriptor.from_config(RRDBNetConfig(), architecture_spec("SwinIR"))


# A made-up architecture (tests/models/made_up_architecture.py).
def _detect_shuffle(state_dict: Mapping[str, torch.Tensor]) -> ShuffleConfig:
    if set(state_dict) != {"project.weight", "project.bias"}:
        raise DetectionMismatch(["project.weight"], score=0.0)
    outputs, inputs = state_dict["project.weight"].shape[:2]
    return ShuffleConfig(inputs, inputs, int((outputs // inputs) ** 0.5))


def _bytes(config: ShuffleConfig, element_bytes: int) -> float:
    return 1.0


def _context(config: ShuffleConfig) -> int:
    return 3


# A new architecture is a module like this one plus a registry entry: its own id, no list elsewhere to extend.
_MADE_UP = ArchitectureSpec(
    architecture=Architecture("PixelShuffleNet"),
    config_type=ShuffleConfig,
    build=Shuffle,
    detect=_detect_shuffle,
    supports_fp16=False,
    channels_last=False,
    tile_context=_context,
    activation_bytes_per_pixel=_bytes,
    prior_seconds_per_megapixel=1.0,
)


def test_detection_finds_a_spec_only_in_the_registry_it_is_given() -> None:
    torch.manual_seed(0)
    network = Shuffle(ShuffleConfig(scale=3)).eval()
    with pytest.raises(UnknownArchitectureError):
        default_registry().detect(network.state_dict())

    descriptor, loaded = ArchitectureRegistry((*BUILTIN_SPECS, _MADE_UP)).load(network.state_dict())

    assert descriptor.spec is _MADE_UP
    assert descriptor.config == ShuffleConfig(scale=3)
    assert (descriptor.scale, descriptor.supports_fp16, descriptor.tile_context) == (3, False, 3)
    sample = torch.rand(1, 3, 5, 7)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(sample), network(sample))
