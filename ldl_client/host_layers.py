"""The names of the layers one upscale adds in a host (Krita, GIMP), unique within the document: one rule for every
plug-in.

The first upscale of a document adds group ``LDL`` with ``LDL reference``, ``LDL detail`` (carrying the transparency
mask ``LDL mask``) and ``LDL artifact map``; later ones get a number on every name (``LDL 2``, ``LDL detail 2``, …),
so each set stays findable by name and "blend detail into selection" can tell the groups apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

BASE = "LDL"
_GROUP = re.compile(rf"{BASE}(?: ([1-9][0-9]*))?")


@dataclass(frozen=True)
class LayerNames:
    """The names of one upscale's nodes; ``index`` 1 has no number, index N > 1 ends every name with `` N``."""

    index: int
    group: str
    reference: str
    detail: str
    mask: str
    artifact_map: str

    @classmethod
    def for_index(cls, index: int) -> LayerNames:
        if index < 1:
            raise ValueError(f"layer set index {index} must be 1 or more")
        suffix = "" if index == 1 else f" {index}"
        return cls(
            index=index,
            group=f"{BASE}{suffix}",
            reference=f"{BASE} reference{suffix}",
            detail=f"{BASE} detail{suffix}",
            mask=f"{BASE} mask{suffix}",
            artifact_map=f"{BASE} artifact map{suffix}",
        )

    @property
    def all(self) -> tuple[str, ...]:
        """Every name, the group first."""
        return (self.group, self.reference, self.detail, self.mask, self.artifact_map)


def next_layer_names(existing: Iterable[str]) -> LayerNames:
    """The lowest-numbered set none of whose names is taken by ``existing`` (the document's node names)."""
    taken = set(existing)
    index = 1
    while any(name in taken for name in LayerNames.for_index(index).all):
        index += 1
    return LayerNames.for_index(index)


def group_index(name: str) -> int | None:
    """The set a group name belongs to (``LDL`` → 1, ``LDL 7`` → 7), or None for any other name."""
    match = _GROUP.fullmatch(name)
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else 1
