"""Detect the architecture of a state dict: an explicit registry of architecture specs, built and passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ldl_backend.errors import UnknownArchitectureError
from ldl_backend.models.architectures.registry import BUILTIN_SPECS, architecture_spec
from ldl_backend.models.architectures.spec import ArchConfig, Architecture, ArchitectureSpec
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.meta_build import build_on_meta
from ldl_backend.models.mismatch import DetectionMismatch
from ldl_backend.models.state_dict import StateDict

__all__ = ["ArchitectureRegistry", "ArchitectureSpec", "DetectedModel", "default_registry"]


@dataclass(frozen=True)
class DetectedModel:
    """``skeleton``: the network the key check built on the meta device (no memory, no weights), which loading
    fills instead of building it a second time; None where no check built one."""

    descriptor: ModelDescriptor
    state_dict: StateDict
    skeleton: nn.Module | None = field(default=None, compare=False, repr=False)


class ArchitectureRegistry:
    """An ordered set of architecture specs; the first whose detector and key/shape check pass wins."""

    def __init__(self, specs: Sequence[ArchitectureSpec[Any]]) -> None:
        self._specs = tuple(specs)

    @property
    def specs(self) -> tuple[ArchitectureSpec[Any], ...]:
        return self._specs

    @property
    def architectures(self) -> tuple[Architecture, ...]:
        return tuple(spec.architecture for spec in self._specs)

    def spec(self, architecture: Architecture | str) -> ArchitectureSpec[Any]:
        """The spec with this id (see ``registry.architecture_spec``). Raises ``LdlError`` for an unknown id."""
        return architecture_spec(architecture, self._specs)

    def detect(self, state_dict: Mapping[str, torch.Tensor]) -> DetectedModel:
        """Recognise ``state_dict`` and return its descriptor with the state dict the network loads strict.

        Raises ``UnknownArchitectureError`` naming the closest architecture and the keys it misses.
        """
        best: tuple[float, Architecture, DetectionMismatch] | None = None
        for spec in self._specs:
            try:
                cleaned = spec.normalize(state_dict)
                config = spec.detect(cleaned)
                skeleton = _check_keys_and_shapes(spec, config, cleaned)
            except DetectionMismatch as mismatch:
                if best is None or mismatch.score > best[0]:
                    best = (mismatch.score, spec.architecture, mismatch)
                continue
            return DetectedModel(ModelDescriptor.from_config(config, spec), cleaned, skeleton)
        supported = [spec.architecture for spec in self._specs]
        if best is None or best[0] <= 0.0:
            raise UnknownArchitectureError(None, (), supported=supported)
        _, architecture, mismatch = best
        raise UnknownArchitectureError(architecture, mismatch.missing_keys, mismatch.detail, supported)

    def load(self, state_dict: Mapping[str, torch.Tensor]) -> tuple[ModelDescriptor, nn.Module]:
        """Detect, build and load strict; the network is in eval mode with gradients off."""
        detected = self.detect(state_dict)
        network = _build_loaded(detected)
        network.eval().requires_grad_(False)
        return detected.descriptor, network


def _build_loaded(detected: DetectedModel) -> nn.Module:
    """The network holding the state dict's tensors. Built on the meta device and given the loaded tensors, it
    skips the random initialisation every weight would get first (a quarter of a second for x4plus); a network
    that keeps tensors of its own outside the state dict (buffers computed at build time) is built for real."""
    network = detected.skeleton
    if network is None or any(not tensor.is_meta for tensor in network.state_dict().values()):
        network = build_on_meta(detected.descriptor.build)
    # Copies in the network's own dtypes, as a plain load would make: the caller's tensors (maybe memory-mapped,
    # maybe half precision, maybe loaded into a second network such as an EMA copy) are never shared.
    expected = network.state_dict()
    tensors = {key: value.to(dtype=expected[key].dtype, copy=True) for key, value in detected.state_dict.items()}
    network.load_state_dict(tensors, strict=True, assign=True)
    if any(tensor.is_meta for tensor in (*network.parameters(), *network.buffers())):
        network = detected.descriptor.build()
        network.load_state_dict(detected.state_dict, strict=True)
    return network


def _check_keys_and_shapes(
    spec: ArchitectureSpec[Any], config: ArchConfig, state_dict: Mapping[str, torch.Tensor]
) -> nn.Module:
    """The network built on the meta device, after checking it has exactly the state dict's keys and shapes."""
    # Building on the meta device costs no memory and gives the exact keys and shapes the network expects.
    skeleton = build_on_meta(lambda: spec.build(config))
    expected = skeleton.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    if missing or unexpected:
        detail = f"{len(unexpected)} unexpected keys such as {unexpected[0]}" if unexpected else ""
        raise DetectionMismatch(missing, score=0.95, detail=detail)
    for key, tensor in expected.items():
        if tuple(state_dict[key].shape) != tuple(tensor.shape):
            raise DetectionMismatch(
                score=0.95,
                detail=f"{key} has shape {tuple(state_dict[key].shape)}, expected {tuple(tensor.shape)}",
            )
    return skeleton


def default_registry() -> ArchitectureRegistry:
    """The architectures this package ships, in ``BUILTIN_SPECS``' order (SwinIR first: its keys are the most
    specific)."""
    return ArchitectureRegistry(BUILTIN_SPECS)
