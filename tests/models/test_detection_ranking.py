"""The registry's own logic on made-up architectures: the key and shape check behind a lenient detector, which
near miss is named closest, the network built once and never shared (built for real only when it keeps a buffer of
its own), and what ``load`` hands back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import pytest
import torch
from torch import nn

from ldl_backend.errors import LdlError, UnknownArchitectureError
from ldl_backend.models.architectures.spec import Architecture, ArchitectureSpec
from ldl_backend.models.detection import ArchitectureRegistry, _build_loaded
from ldl_backend.models.mismatch import DetectionMismatch
from tests.models.made_up_architecture import Shuffle, ShuffleConfig

builds: list[ShuffleConfig] = []


def _build(config: ShuffleConfig) -> nn.Module:
    builds.append(config)
    return Shuffle(config)


def _detect_leniently(state_dict: Mapping[str, torch.Tensor]) -> ShuffleConfig:
    # Reads one weight's shape and nothing else: the registry's key and shape check is what refuses the rest.
    if "project.weight" not in state_dict:
        raise DetectionMismatch(["project.weight"], score=0.1)
    outputs, inputs = state_dict["project.weight"].shape[:2]
    return ShuffleConfig(inputs, inputs, int((outputs // inputs) ** 0.5))


def _spec(
    name: str, detect: Callable[[Mapping[str, torch.Tensor]], ShuffleConfig] = _detect_leniently
) -> ArchitectureSpec[ShuffleConfig]:
    return ArchitectureSpec(
        architecture=Architecture(name),
        config_type=ShuffleConfig,
        build=_build,
        detect=detect,
        supports_fp16=True,
        channels_last=False,
        tile_context=lambda config: 1,
        activation_bytes_per_pixel=lambda config, element_bytes: 1.0,
        prior_seconds_per_megapixel=1.0,
    )


def _refusing(name: str, score: float) -> ArchitectureSpec[ShuffleConfig]:
    """A spec whose detector recognises its own signature but refuses the rest, with ``score``."""

    def detect(state_dict: Mapping[str, torch.Tensor]) -> ShuffleConfig:
        raise DetectionMismatch(score=score, detail=f"{name} refuses")

    return _spec(name, detect)


LENIENT = _spec("Lenient")


def _weights() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return dict(Shuffle(ShuffleConfig()).state_dict())


def test_a_missing_key_the_detector_overlooked_is_named() -> None:
    state = _weights()
    del state["project.bias"]
    with pytest.raises(UnknownArchitectureError) as caught:
        ArchitectureRegistry((LENIENT,)).detect(state)
    assert (caught.value.closest, caught.value.missing_keys) == ("Lenient", ("project.bias",))
    assert caught.value.message == (
        "the weights do not match any supported network; closest is Lenient, which would also need the keys "
        "project.bias"
    )


def test_an_unexpected_key_is_counted_and_named() -> None:
    state = _weights() | {"extra.weight": torch.zeros(1)}
    with pytest.raises(UnknownArchitectureError) as caught:
        ArchitectureRegistry((LENIENT, _refusing("Other", 0.5))).detect(state)
    assert (caught.value.closest, caught.value.missing_keys) == ("Lenient", ())
    assert caught.value.message.endswith("closest is Lenient (1 unexpected keys such as extra.weight)")
    # The hint lists this registry's architectures, near miss or not.
    assert "supported networks: Lenient, Other;" in caught.value.hint


def test_a_detectors_own_refusal_outranks_a_key_check_near_miss() -> None:
    # A detector that knows its signature (score 1.0) names the file better than keys or shapes that nearly fit
    # another architecture (0.95), whichever comes first.
    missing, bad_shape = _weights(), _weights()
    del missing["project.bias"]
    bad_shape["project.bias"] = torch.zeros(5)
    for state in (missing, bad_shape):
        with pytest.raises(UnknownArchitectureError) as caught:
            ArchitectureRegistry((LENIENT, _refusing("Certain", 1.0))).detect(state)
        assert caught.value.closest == "Certain"


def test_a_tie_goes_to_the_first_spec() -> None:
    # The registry's order is its priority (the most specific signature first).
    registry = ArchitectureRegistry((_refusing("First", 0.5), _refusing("Second", 0.5)))
    with pytest.raises(UnknownArchitectureError) as caught:
        registry.detect(_weights())
    assert caught.value.closest == "First"


def test_load_builds_once_and_hands_back_a_frozen_network_in_eval_mode() -> None:
    builds.clear()
    state = _weights()
    descriptor, network = ArchitectureRegistry((LENIENT,)).load(state)
    assert builds == [descriptor.config]  # the checked skeleton is filled, not built a second time
    assert not network.training and not any(p.requires_grad for p in network.parameters())
    torch.testing.assert_close(network.state_dict(), state)


def test_a_detected_model_loaded_twice_gives_two_networks() -> None:
    # The first load fills the skeleton; the second must build its own rather than refill (and share) that one.
    detected = ArchitectureRegistry((LENIENT,)).detect(_weights())
    first, second = _build_loaded(detected), _build_loaded(detected)
    assert first is not second
    with torch.no_grad():
        next(first.parameters()).add_(1.0)
    torch.testing.assert_close(second.state_dict(), _weights())


class _Shifted(Shuffle):
    """Keeps a tensor of its own outside the state dict, computed at build time (as SwinIR's masks once were)."""

    shift: torch.Tensor

    def __init__(self, config: ShuffleConfig) -> None:
        super().__init__(config)
        self.register_buffer("shift", torch.linspace(0.0, 1.0, config.out_channels).view(-1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + self.shift


def test_a_network_with_a_buffer_computed_at_build_time_is_built_for_real() -> None:
    # On the meta device that buffer has no values, and loading the state dict cannot give it any.
    spec = dataclasses.replace(LENIENT, architecture=Architecture("Shifted"), build=_Shifted)
    torch.manual_seed(0)
    reference = _Shifted(ShuffleConfig()).eval()
    _, network = ArchitectureRegistry((spec,)).load(reference.state_dict())
    assert not any(tensor.is_meta for tensor in (*network.parameters(), *network.buffers()))
    sample = torch.rand(1, 3, 4, 4)
    with torch.inference_mode():
        torch.testing.assert_close(network(sample), reference(sample))


def test_spec_looks_in_this_registry_only() -> None:
    registry = ArchitectureRegistry((LENIENT,))
    assert registry.spec("Lenient") is LENIENT and registry.architectures == ("Lenient",)
    with pytest.raises(LdlError) as caught:
        registry.spec("RRDBNet")
    assert caught.value.hint == "known architectures: Lenient"
