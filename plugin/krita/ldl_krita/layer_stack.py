"""Building the LDL group in a Krita document: ``LDL reference`` at the bottom, ``LDL detail`` above it with the
transparency mask ``LDL mask`` (white keeps detail), and a hidden ``LDL artifact map`` on top.

Undo: libkis (Krita's Python API, 5.1 and 5.2) has no way to group commands into one undo step. The group is built
outside the image with its pixels (``setPixelData`` is not undoable, and ``setChildNodes`` records no step) and
enters it with one ``addChildNode``: undo removes it whole, redo brings it back. Scaling the image is a step of its
own before it. On 5.1 the mask, made by Krita's action (one step), is moved onto the detail layer with Krita's
undoable remove and add (two steps: a node with an undo history must not be moved behind its back).

Transparency masks: Krita 5.1's API makes them without pixels (``host_api``), so there the mask is made by Krita's
own "Add Transparency Mask" action, which works on the active layer of the active view, and is then moved onto the
detail layer; Krita's action also makes the mask the active node, ready to paint on (setting it back does not stick:
Krita activates the moved mask again once control returns to its event loop). From 5.2 on, the API's mask is used
once a trial on a node outside the image shows it keeps pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from . import host_api
from .client_import import LayerNames, next_layer_names
from .errors import PluginError

MASK_ACTION = "add_new_transparency_mask"
RESAMPLING = "Bicubic"
_FIRST_MASK_API = (5, 2)


@dataclass(frozen=True)
class LayerContent:
    """Pixels for the new layers, all ``width``×``height`` at (``x``, ``y``) in image coordinates: reference,
    detail and artifact map in the document's pixel format, the mask one byte per pixel."""

    x: int
    y: int
    width: int
    height: int
    reference: bytes
    detail: bytes
    artifact_map: bytes
    mask: bytes


def add_ldl_group(
    host: host_api.Host,
    document: host_api.Document,
    content: LayerContent,
    *,
    parent: host_api.Node,
    above: host_api.Node | None,
    scale_to: tuple[int, int] | None = None,
    replace_initial_layers: bool = False,
) -> LayerNames:
    """Scale the image to ``scale_to`` first when given, then add the group under ``parent`` above ``above`` (on
    top when None); ``replace_initial_layers`` removes the layers a new document came with. Returns the names used.

    Raises ``PluginError`` when Krita cannot add the mask (on 5.1: the document is not in the active view).
    """
    names = next_layer_names(node.name() for node in walk(document.rootNode()))
    initial = list(document.rootNode().childNodes()) if replace_initial_layers else []
    modern = has_mask_api(host) and _mask_api_works(document)
    legacy_mask = None if modern else _mask_through_action(host, document)
    moved = False
    try:
        if scale_to is not None:
            _scale(document, *scale_to)
        group = document.createNode(names.group, "grouplayer")
        reference = _paint_layer(document, names.reference, content.reference, content)
        detail = _paint_layer(document, names.detail, content.detail, content)
        artifact_map = _paint_layer(document, names.artifact_map, content.artifact_map, content)
        artifact_map.setVisible(False)
        group.setChildNodes([reference, detail, artifact_map])
        if legacy_mask is None:
            mask = _mask_node(document, names.mask)
            detail.setChildNodes([mask])
            _fill_mask(mask, names, content)
        else:
            mask = legacy_mask
        parent.addChildNode(group, above)
        document.waitForDone()
        if legacy_mask is not None:
            # Moved with Krita's own undoable commands: this mask already has an undo history.
            legacy_mask.remove()
            moved = True
            detail.addChildNode(legacy_mask, None)
            document.waitForDone()
            _fill_mask(legacy_mask, names, content)
        _check_mask(mask, content)
        for node in initial:
            node.remove()
        document.waitForDone()
    except BaseException:
        if legacy_mask is not None and not moved:
            legacy_mask.remove()  # the one change made before the failure
        raise
    document.refreshProjection()
    return names


def walk(node: host_api.Node) -> Iterator[host_api.Node]:
    """Every node below ``node``, depth first, each stack in Krita's order (bottom first)."""
    for child in node.childNodes():
        yield child
        yield from walk(child)


def has_mask_api(host: host_api.Host) -> bool:
    """Whether this Krita's API makes transparency masks with pixels (5.2 and later)."""
    parts: list[int] = []
    for part in host.version().split(".")[:2]:
        digits = "".join(char for char in part if char.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts) >= _FIRST_MASK_API


def _mask_api_works(document: host_api.Document) -> bool:
    """Try the API's transparency mask on nodes outside the image (nothing in the document changes)."""
    holder = document.createNode("LDL probe", "paintlayer")
    mask = _mask_node(document, "LDL probe mask")
    holder.setChildNodes([mask])
    mask.setPixelData(b"\x7f", 0, 0, 1, 1)
    return bytes(mask.pixelData(0, 0, 1, 1)) == b"\x7f"


def _mask_node(document: host_api.Document, name: str) -> host_api.Node:
    create = getattr(document, "createTransparencyMask", None)
    if create is not None:
        return create(name)
    return document.createNode(name, "transparencymask")


def _mask_through_action(host: host_api.Host, document: host_api.Document) -> host_api.Node:
    """Krita 5.1: a transparency mask made by Krita's action on the active view's active layer. Changes nothing
    else (the global selection, which the action would turn into the mask, is set aside and put back)."""
    window = host.activeWindow()
    view = window.activeView() if window is not None else None
    if window is not None and (view is None or view.document() != document):
        # Shown in another tab of the window: bring it to the front, as clicking its tab would.
        shown = next((v for v in window.views() if v.document() == document), None)
        if shown is not None:
            window.showView(shown)
            view = window.activeView()
    action = host.action(MASK_ACTION)
    if view is None or action is None or view.document() != document:
        raise PluginError(
            "on Krita 5.1 LDL can add its transparency mask only to the document shown in the active window",
            "click the document's tab (or open it in a window), then run the upscale again",
        )
    before = {str(node.uniqueId()) for node in _masks(document)}
    saved = document.selection()
    kept = saved.duplicate() if saved is not None else None
    if kept is not None:
        document.setSelection(None)
    try:
        action.trigger()
        document.waitForDone()
    finally:
        if kept is not None:
            document.setSelection(kept)
    added = [node for node in _masks(document) if str(node.uniqueId()) not in before]
    if len(added) != 1:
        for node in added:
            node.remove()
        raise PluginError(
            "Krita did not add the transparency mask LDL needs",
            "select a paint layer of this document in the Layers docker, then run the upscale again",
        )
    return added[0]


def _masks(document: host_api.Document) -> list[host_api.Node]:
    return [node for node in walk(document.rootNode()) if node.type() == "transparencymask"]


def _scale(document: host_api.Document, width: int, height: int) -> None:
    # scaleImage takes whole pixels per inch and divides them by 72 in integers (300 → 288 on 5.1): put them back.
    xres, yres = document.xRes(), document.yRes()
    document.scaleImage(width, height, round(xres), round(yres), RESAMPLING)
    document.waitForDone()
    document.setXRes(xres)
    document.setYRes(yres)
    if (document.width(), document.height()) != (width, height):
        raise PluginError(
            f"Krita did not scale the image to {width}x{height} (it is {document.width()}x{document.height()})",
            "check that the image is not locked, then run the upscale again",
        )


def _paint_layer(document: host_api.Document, name: str, data: bytes, content: LayerContent) -> host_api.Node:
    node = document.createNode(name, "paintlayer")
    node.setPixelData(data, content.x, content.y, content.width, content.height)
    return node


def _fill_mask(mask: host_api.Node, names: LayerNames, content: LayerContent) -> None:
    mask.setName(names.mask)
    mask.setPixelData(content.mask, content.x, content.y, content.width, content.height)


def _check_mask(mask: host_api.Node, content: LayerContent) -> None:
    # A mask without pixels (what 5.1's createNode makes) reads back empty; catch that rather than show no mask.
    first = bytes(mask.pixelData(content.x, content.y, 1, 1))
    if first != content.mask[:1]:
        raise PluginError(
            "Krita did not keep the transparency mask's pixels",
            "this Krita version's scripting API may differ; please report it with Help › About Krita",
        )
