"""Finding things in GIMP's layer tree: every item's name (for the next unused LDL names), the LDL groups, and the
group a blend works on. Pure: it only calls the methods GIMP's items have (``get_name``, ``get_children``, …) on
the objects it is given, so the unit tests pass stand-ins."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ldl_client import LayerNames, group_index, next_layer_names

from .errors import NothingToBlend


def walk(layers: Iterable[Any]) -> Iterator[Any]:
    """Every layer, each group before its children, the top of each stack first (GIMP lists stacks top first)."""
    for layer in layers:
        yield layer
        if layer.is_group_layer():
            yield from walk(layer.get_children())


def item_names(image: Any) -> list[str]:
    """The names of every layer (inside groups too), layer mask and channel of ``image``."""
    names = [channel.get_name() for channel in image.get_channels()]
    for layer in walk(image.get_layers()):
        names.append(layer.get_name())
        mask = layer.get_mask()
        if mask is not None:
            names.append(mask.get_name())
    return names


def new_layer_names(image: Any) -> LayerNames:
    """The names for the next upscale's group and layers: ``LDL`` …, or the lowest number whose names are all free.

    GIMP names a layer mask after its layer (``LDL detail mask``) and does not let plug-ins rename it, so the set's
    ``mask`` name is only checked for being free, never given."""
    return next_layer_names(item_names(image))


def ldl_groups(image: Any) -> list[tuple[Any, LayerNames]]:
    """The image's LDL groups (``LDL``, ``LDL 2``, …) with their names' set, topmost first."""
    found: list[tuple[Any, LayerNames]] = []
    for layer in walk(image.get_layers()):
        index = group_index(layer.get_name()) if layer.is_group_layer() else None
        if index is not None:
            found.append((layer, LayerNames.for_index(index)))
    return found


def chosen_group(
    image: Any, drawables: Iterable[Any], layer_of_mask: Callable[[Any], Any] | None = None
) -> tuple[Any, LayerNames]:
    """The LDL group holding one of ``drawables`` (a layer mask counts as its layer: ``layer_of_mask``, in GIMP
    ``Gimp.Layer.from_mask``), else the topmost LDL group. Raises ``NothingToBlend`` when the image has none."""
    groups = ldl_groups(image)
    if not groups:
        raise NothingToBlend(
            "this image has no LDL group",
            "run Filters › Enhance › Upscale with LDL… first; it adds the group with the detail and its mask",
        )
    around: set[int] = set()
    for drawable in drawables:
        item = (layer_of_mask or _parent)(drawable) if drawable.is_layer_mask() else drawable
        while item is not None:
            around.add(item.get_id())
            item = item.get_parent()
    return next((pair for pair in groups if pair[0].get_id() in around), groups[0])


def masked_detail(group: Any, names: LayerNames) -> tuple[Any, Any]:
    """The group's detail layer and its layer mask; raises ``NothingToBlend`` when either is missing."""
    detail = next((child for child in group.get_children() if child.get_name() == names.detail), None)
    mask = detail.get_mask() if detail is not None else None
    if mask is None:
        raise NothingToBlend(
            f"the group '{group.get_name()}' has no layer '{names.detail}' with a layer mask",
            "run Filters › Enhance › Upscale with LDL… again, or add a layer mask to the detail layer",
        )
    return detail, mask


def _parent(item: Any) -> Any:
    return item.get_parent()
