"""Detect the architecture of a state dict: an explicit registry of pure detectors, built and passed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ldl_backend.archs.swinir import strip_derived_buffers
from ldl_backend.errors import UnknownArchitectureError
from ldl_backend.models.descriptor import ArchConfig, Architecture, ModelDescriptor, build_network
from ldl_backend.models.detect_rrdbnet import detect_rrdbnet
from ldl_backend.models.detect_srvgg import detect_srvgg
from ldl_backend.models.detect_swinir import detect_swinir
from ldl_backend.models.mismatch import DetectionMismatch
from ldl_backend.models.state_dict import StateDict


def _unchanged(state_dict: Mapping[str, torch.Tensor]) -> StateDict:
    return dict(state_dict)


@dataclass(frozen=True)
class ArchitectureSpec:
    """How to recognise one architecture.

    ``detect`` returns the hyper-parameters or raises ``DetectionMismatch``; ``normalize`` drops keys that
    released files carry but the network recomputes (SwinIR's attention masks).
    """

    architecture: Architecture
    detect: Callable[[Mapping[str, torch.Tensor]], ArchConfig]
    normalize: Callable[[Mapping[str, torch.Tensor]], StateDict] = field(default=_unchanged)


@dataclass(frozen=True)
class DetectedModel:
    descriptor: ModelDescriptor
    state_dict: StateDict


class ArchitectureRegistry:
    """An ordered set of architecture specs; the first whose detector and key/shape check pass wins."""

    def __init__(self, specs: Sequence[ArchitectureSpec]) -> None:
        self._specs = tuple(specs)

    @property
    def architectures(self) -> tuple[Architecture, ...]:
        return tuple(spec.architecture for spec in self._specs)

    def detect(self, state_dict: Mapping[str, torch.Tensor]) -> DetectedModel:
        """Recognise ``state_dict`` and return its descriptor with the state dict the network loads strict.

        Raises ``UnknownArchitectureError`` naming the closest architecture and the keys it misses.
        """
        best: tuple[float, Architecture, DetectionMismatch] | None = None
        for spec in self._specs:
            try:
                cleaned = spec.normalize(state_dict)
                config = spec.detect(cleaned)
                _check_keys_and_shapes(config, cleaned)
            except DetectionMismatch as mismatch:
                if best is None or mismatch.score > best[0]:
                    best = (mismatch.score, spec.architecture, mismatch)
                continue
            return DetectedModel(ModelDescriptor.from_config(config), cleaned)
        if best is None or best[0] <= 0.0:
            raise UnknownArchitectureError(None, ())
        _, architecture, mismatch = best
        raise UnknownArchitectureError(architecture.value, mismatch.missing_keys, mismatch.detail)

    def load(self, state_dict: Mapping[str, torch.Tensor]) -> tuple[ModelDescriptor, nn.Module]:
        """Detect, build and load strict; the network is in eval mode with gradients off."""
        detected = self.detect(state_dict)
        network = detected.descriptor.build()
        network.load_state_dict(detected.state_dict, strict=True)
        network.eval().requires_grad_(False)
        return detected.descriptor, network


def _check_keys_and_shapes(config: ArchConfig, state_dict: Mapping[str, torch.Tensor]) -> None:
    # Building on the meta device costs no memory and gives the exact keys and shapes the network expects.
    with torch.device("meta"):
        expected = build_network(config).state_dict()
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


def default_registry() -> ArchitectureRegistry:
    """The architectures this package ships, SwinIR first (its keys are the most specific)."""
    return ArchitectureRegistry(
        (
            ArchitectureSpec(Architecture.SWINIR, detect_swinir, strip_derived_buffers),
            ArchitectureSpec(Architecture.RRDBNET, detect_rrdbnet),
            ArchitectureSpec(Architecture.SRVGG_COMPACT, detect_srvgg),
        )
    )
