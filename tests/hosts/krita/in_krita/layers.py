"""The nodes one upscale adds to a document (the first upscale of a document: names without a number)."""

from __future__ import annotations

from typing import Any

GROUP, REFERENCE, DETAIL, MASK, MAP = "LDL", "LDL reference", "LDL detail", "LDL mask", "LDL artifact map"


def ldl_group(document: Any) -> Any:
    groups = [node for node in document.topLevelNodes() if node.name() == GROUP]
    assert len(groups) == 1, f"top-level nodes: {[node.name() for node in document.topLevelNodes()]}"
    return groups[0]


def ldl_layer(document: Any, name: str) -> Any:
    found = [node for node in ldl_group(document).childNodes() if node.name() == name]
    assert len(found) == 1, f"{GROUP} holds {[node.name() for node in ldl_group(document).childNodes()]}"
    return found[0]


def ldl_mask(document: Any) -> Any:
    masks = ldl_layer(document, DETAIL).childNodes()
    assert [(node.name(), node.type()) for node in masks] == [(MASK, "transparencymask")]
    return masks[0]


def check_ldl_stack(document: Any) -> None:
    """The picture's layer resampled to the document's size, the group above it: ``LDL reference`` below
    ``LDL detail`` (which carries ``LDL mask``) and a hidden ``LDL artifact map``."""
    top = [(node.name(), node.type()) for node in document.topLevelNodes()]
    assert sorted(top) == [("Background", "paintlayer"), (GROUP, "grouplayer")], top
    assert top[-1] == (GROUP, "grouplayer"), f"{GROUP} is not above the picture: {top}"
    background = document.topLevelNodes()[0].bounds()
    assert (background.width(), background.height()) == (document.width(), document.height()), "not resampled"

    layers = [(node.name(), node.type(), node.visible()) for node in ldl_group(document).childNodes()]
    names = [name for name, _, _ in layers]
    assert sorted(names) == sorted([REFERENCE, DETAIL, MAP]), layers
    assert names.index(REFERENCE) < names.index(DETAIL), f"{DETAIL} is not above {REFERENCE}: {layers}"
    assert all(kind == "paintlayer" for _, kind, _ in layers), layers
    assert {name: visible for name, _, visible in layers} == {REFERENCE: True, DETAIL: True, MAP: False}
    ldl_mask(document)
