"""The GIMP side of both procedures: read a drawable, build the LDL group, blend detail into the selection.

Only GIMP calls live here; what they compute is decided by the pure modules (``pixels``, ``masks``, ``placement``,
``ldl_client.host_layers``). Pixels move through Gegl buffers in the babl formats ``pixels`` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ldl_client import HostLayers

from .errors import BackendFailed, NothingToBlend, UnsupportedImage
from .gimp_api import Gegl, Gimp
from .layer_tree import chosen_group, masked_detail, new_layer_names
from .masks import MASK_FORMAT, map_pixels, mask_pixels, merge_coverage, through_selection
from .pixels import PixelLayout, from_raw, to_raw
from .placement import Placement, Region

_VERSION_HINT = "the backend and the plug-in may be different versions; reinstall LDL Studio"


@dataclass(frozen=True)
class Source:
    """What one upscale reads: the drawable, how its pixels are laid out, and the region to upscale."""

    image: Any
    drawable: Any
    layout: PixelLayout
    region: Region


@dataclass(frozen=True)
class ConvertedLayers:
    """A job's layers as (babl format, samples) pairs, ready to be written: converted before the image changes, so
    that a layer the plug-in cannot use leaves the image as it was."""

    reference: tuple[str, bytes]
    detail: tuple[str, bytes]
    artifact_map: tuple[str, bytes]
    mask: tuple[str, bytes]


def source_of(image: Any, drawables: list[Any], selection_target: str) -> Source:
    """The drawable to upscale and its region. Raises ``UnsupportedImage`` for indexed images, anything but one
    paint layer, or a selection beside the layer."""
    if len(drawables) != 1:
        raise UnsupportedImage(
            f"LDL upscales one layer at a time, and {len(drawables)} are selected",
            "select the one layer to upscale in the Layers dialog, then run the upscale again",
        )
    drawable = drawables[0]
    if not drawable.is_layer() or drawable.is_group_layer() or drawable.is_layer_mask():
        raise UnsupportedImage(
            f"'{drawable.get_name()}' is not a paint layer",
            "select the paint layer to upscale (not a group, a mask or a channel), then run the upscale again",
        )
    layout = PixelLayout.of(
        image.get_base_type().value_nick, image.get_precision().value_nick, bool(drawable.has_alpha())
    )
    selection = None
    if not Gimp.Selection.is_empty(image):
        found, x, y, width, height = drawable.mask_intersect()
        selection = (x, y, width, height) if found else (0, 0, 0, 0)
    _, x, y = drawable.get_offsets()
    size = (drawable.get_width(), drawable.get_height())
    return Source(image, drawable, layout, Region.choose(size, (x, y), selection, selection_target))


def read_source(source: Source) -> Any:
    """The region's pixels as the ``RawImage`` to upload."""
    region = source.region
    rect = Gegl.Rectangle.new(region.x, region.y, region.width, region.height)
    data = source.drawable.get_buffer().get(rect, 1.0, source.layout.read_format, Gegl.AbyssPolicy.NONE)
    return to_raw(source.layout, bytes(data), region.width, region.height)


def convert_layers(layout: PixelLayout, layers: HostLayers) -> ConvertedLayers:
    """Raises ``BackendFailed`` when the backend sent layers the drawable cannot take."""
    try:
        return ConvertedLayers(
            reference=from_raw(layout, layers.reference),
            detail=from_raw(layout, layers.detail),
            artifact_map=map_pixels(layers.artifact_map),
            mask=mask_pixels(layers.mask),
        )
    except ValueError as e:
        raise BackendFailed(f"the backend sent layers the plug-in cannot use: {e}", _VERSION_HINT, "protocol") from e


def apply_upscale(source: Source, layers: ConvertedLayers, placement: Placement, interactive: bool) -> tuple[Any, Any]:
    """Change the image (or make the new one) and add the LDL group; returns (image, group).

    Everything happens inside one undo group of the image that changes, so one Undo removes the whole result.
    """
    if placement.new_image_size is not None:
        width, height = placement.new_image_size
        image = Gimp.Image.new_with_precision(width, height, source.image.get_base_type(), source.image.get_precision())
        profile = source.image.get_color_profile()
        if profile is not None:
            image.set_color_profile(profile)
        image.undo_disable()  # a new image has nothing to undo back to
        try:
            group = add_ldl_group(image, None, 0, source.layout, layers, placement)
        finally:
            image.undo_enable()
        if interactive:
            Gimp.Display.new(image)
        return image, group
    image = source.image
    image.undo_group_start()
    try:
        if placement.scale_image_to is not None:
            image.scale(*placement.scale_image_to)
        parent = source.drawable.get_parent()
        position = image.get_item_position(source.drawable)
        group = add_ldl_group(image, parent, position, source.layout, layers, placement)
    finally:
        image.undo_group_end()
    return image, group


def add_ldl_group(
    image: Any, parent: Any, position: int, layout: PixelLayout, layers: ConvertedLayers, placement: Placement
) -> Any:
    """Group ``LDL`` (numbered on later runs) at ``position`` in ``parent``, holding from the top: the hidden
    artifact map, the detail with its mask (GIMP names a layer mask after its layer: ``LDL detail mask``) and the
    reference. Returns the group."""
    names = new_layer_names(image)
    group = Gimp.GroupLayer.new(image, names.group)
    image.insert_layer(group, parent, position)
    width, height = placement.size
    colour = _layer_type(layout, layout.alpha)
    _new_layer(image, group, names.reference, colour, placement, layers.reference)
    detail = _new_layer(image, group, names.detail, colour, placement, layers.detail)
    mask = detail.create_mask(Gimp.AddMaskType.WHITE)
    detail.add_mask(mask)
    _write(mask, width, height, *layers.mask)
    artifact_map = _new_layer(
        image, group, names.artifact_map, _layer_type(layout, False), placement, layers.artifact_map
    )
    artifact_map.set_visible(False)
    image.set_selected_layers([detail])
    return group


def blend_detail_into_selection(image: Any, drawables: list[Any]) -> Any:
    """Make the LDL group's detail mask max(mask, selection) over the selection; returns the group.

    The group is the LDL group around the selected drawable, else the topmost. The change is one undo step.
    Raises ``NothingToBlend`` without a selection or an LDL group with its masked detail layer.
    """
    if Gimp.Selection.is_empty(image):
        raise NothingToBlend(
            "there is no selection to blend the detail into",
            "select where the generated detail should show (feathering is respected), then run this again",
        )
    group, names = chosen_group(image, drawables, Gimp.Layer.from_mask)
    _, mask = masked_detail(group, names)
    found, x, y, width, height = mask.mask_intersect()
    if not found or width <= 0 or height <= 0:
        raise NothingToBlend(
            f"the selection does not touch the layer '{names.detail}'",
            "select inside the upscaled layers, then run this again",
        )
    _, left, top = mask.get_offsets()
    rect = Gegl.Rectangle.new(x, y, width, height)
    selected = Gegl.Rectangle.new(left + x, top + y, width, height)
    coverage = bytes(image.get_selection().get_buffer().get(selected, 1.0, MASK_FORMAT, Gegl.AbyssPolicy.NONE))
    current = bytes(mask.get_buffer().get(rect, 1.0, MASK_FORMAT, Gegl.AbyssPolicy.NONE))
    shadow_data = through_selection(current, merge_coverage(current, coverage), coverage)
    image.undo_group_start()
    try:
        shadow = mask.get_shadow_buffer()
        shadow.set(rect, MASK_FORMAT, shadow_data)
        shadow.flush()
        mask.merge_shadow(True)
        mask.update(x, y, width, height)
    finally:
        image.undo_group_end()
    return group


def _layer_type(layout: PixelLayout, alpha: bool) -> Any:
    if layout.gray:
        return Gimp.ImageType.GRAYA_IMAGE if alpha else Gimp.ImageType.GRAY_IMAGE
    return Gimp.ImageType.RGBA_IMAGE if alpha else Gimp.ImageType.RGB_IMAGE


def _new_layer(image: Any, group: Any, name: str, kind: Any, placement: Placement, pixels: tuple[str, bytes]) -> Any:
    width, height = placement.size
    layer = Gimp.Layer.new(image, name, width, height, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, group, 0)
    layer.set_offsets(*placement.offset)
    _write(layer, width, height, *pixels)
    return layer


def _write(drawable: Any, width: int, height: int, babl_format: str, data: bytes) -> None:
    # A layer (or mask) made in this run: written straight into its buffer; undoing its creation removes it whole.
    buffer = drawable.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), babl_format, data)
    buffer.flush()
    drawable.update(0, 0, width, height)
