""" "LDL: blend detail into selection": make the LDL mask white inside the selection, leave it alone elsewhere."""

from __future__ import annotations

from . import host_api
from .client_import import LayerNames, group_index
from .errors import NothingToBlend
from .layer_stack import walk
from .mask_pixels import merge_max


def blend_detail_into_selection(document: host_api.Document) -> None:
    """Set the LDL mask to max(mask, selection) over the selection's bounding box, so the generated detail shows
    wherever something is selected, feathered edges included (the selection's 8-bit coverage).

    The group is the LDL group holding the active node, else the topmost one. Raises ``NothingToBlend`` when the
    document has no selection or no LDL group with its mask. Not undoable: Krita's ``setPixelData`` is not.
    """
    selection = document.selection()
    if selection is None or selection.width() <= 0 or selection.height() <= 0:
        raise NothingToBlend(
            "there is no selection to blend the detail into",
            "select where the generated detail should show (feathering is respected), then run this again",
        )
    mask = _ldl_mask(document)
    x, y, width, height = selection.x(), selection.y(), selection.width(), selection.height()
    coverage = bytes(selection.pixelData(x, y, width, height))
    current = bytes(mask.pixelData(x, y, width, height))
    mask.setPixelData(merge_max(current, coverage), x, y, width, height)
    document.refreshProjection()


def _ldl_mask(document: host_api.Document) -> host_api.Node:
    groups = [(node, names) for node in walk(document.rootNode()) if (names := _names_of(node)) is not None]
    if not groups:
        raise NothingToBlend(
            "this document has no LDL group",
            "run Filter › Enhance › Upscale with LDL… first; it adds the group with the detail and its mask",
        )
    active = document.activeNode()
    ancestors = _ancestors(active) if active is not None else set()
    # The group around the active node; else the topmost (Krita lists each stack bottom first: the last found).
    chosen, names = next((pair for pair in groups if str(pair[0].uniqueId()) in ancestors), groups[-1])
    detail = next((node for node in chosen.childNodes() if node.name() == names.detail), None)
    masks = [node for node in detail.childNodes() if node.type() == "transparencymask"] if detail else []
    mask = next((node for node in masks if node.name() == names.mask), masks[0] if masks else None)
    if mask is None:
        raise NothingToBlend(
            f"the group '{chosen.name()}' has no layer '{names.detail}' with a transparency mask",
            "run Upscale with LDL… again, or add a transparency mask to the detail layer",
        )
    return mask


def _names_of(node: host_api.Node) -> LayerNames | None:
    index = group_index(node.name()) if node.type() == "grouplayer" else None
    return LayerNames.for_index(index) if index is not None else None


def _ancestors(node: host_api.Node) -> set[str]:
    found: set[str] = set()
    current: host_api.Node | None = node
    while current is not None:
        found.add(str(current.uniqueId()))
        current = current.parentNode()
    return found
