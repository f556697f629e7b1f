"""The architectures this package ships, in detection order, and lookups by id and by config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ldl_backend.errors import LdlError
from ldl_backend.models.architectures.rrdbnet import RRDBNET_SPEC
from ldl_backend.models.architectures.spec import Architecture, ArchitectureSpec
from ldl_backend.models.architectures.srvgg import SRVGG_COMPACT_SPEC
from ldl_backend.models.architectures.swinir import SWINIR_SPEC

# Detection order: SwinIR first, its keys are the most specific.
BUILTIN_SPECS: tuple[ArchitectureSpec[Any], ...] = (SWINIR_SPEC, RRDBNET_SPEC, SRVGG_COMPACT_SPEC)


def architecture_spec(
    architecture: Architecture | str, specs: Sequence[ArchitectureSpec[Any]] = BUILTIN_SPECS
) -> ArchitectureSpec[Any]:
    """The spec whose id is ``architecture``: the enum member or its value as the catalog and the server's JSON
    carry it ("RRDBNet", "SRVGGNetCompact", "SwinIR"; exact case). Raises ``LdlError`` for an unknown id."""
    for spec in specs:
        if spec.architecture == architecture:
            return spec
    known = ", ".join(spec.architecture for spec in specs)
    raise LdlError(f"no architecture is called {architecture!r}", f"known architectures: {known}")


def spec_for_config(config: object, specs: Sequence[ArchitectureSpec[Any]] = BUILTIN_SPECS) -> ArchitectureSpec[Any]:
    """The spec whose config type ``config`` is. Raises ``TypeError`` for any other object (a programming error)."""
    for spec in specs:
        if spec.owns(config):
            return spec
    raise TypeError(f"{type(config).__name__} is the config of no registered architecture")
