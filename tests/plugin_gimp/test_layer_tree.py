"""The LDL names a run takes (numbered after earlier runs, masks and channels included) and the group a blend picks,
on stand-ins for GIMP's items."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from ldl_gimp.errors import NothingToBlend
from ldl_gimp.layer_tree import chosen_group, item_names, ldl_groups, masked_detail, new_layer_names, walk

_ids = itertools.count(1)


@dataclass(eq=False)
class Item:
    """The few methods of Gimp.Layer / Gimp.GroupLayer / Gimp.LayerMask / Gimp.Channel the module calls."""

    name: str
    children: list[Item] = field(default_factory=list)
    group: bool = False
    mask: Item | None = None
    is_mask: bool = False
    parent: Item | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        for child in self.children:
            child.parent = self
        if self.mask is not None:
            self.mask.parent = self

    def get_name(self) -> str:
        return self.name

    def get_id(self) -> int:
        return self.id

    def is_group_layer(self) -> bool:
        return self.group

    def is_layer_mask(self) -> bool:
        return self.is_mask

    def get_children(self) -> list[Item]:
        return self.children

    def get_mask(self) -> Item | None:
        return self.mask

    def get_parent(self) -> Item | None:
        return None if self.is_mask else self.parent


@dataclass
class Image:
    layers: list[Item]
    channels: list[Item] = field(default_factory=list)

    def get_layers(self) -> list[Item]:
        return self.layers

    def get_channels(self) -> list[Item]:
        return self.channels


def ldl_group(suffix: str = "") -> Item:
    mask = Item(f"LDL detail{suffix} mask", is_mask=True)
    return Item(
        f"LDL{suffix}",
        group=True,
        children=[
            Item(f"LDL artifact map{suffix}"),
            Item(f"LDL detail{suffix}", mask=mask),
            Item(f"LDL reference{suffix}"),
        ],
    )


def test_the_first_run_takes_the_plain_names() -> None:
    names = new_layer_names(Image([Item("Background")]))
    assert (names.group, names.reference, names.detail, names.artifact_map) == (
        "LDL",
        "LDL reference",
        "LDL detail",
        "LDL artifact map",
    )


def test_later_runs_are_numbered_and_names_inside_groups_count() -> None:
    image = Image([Item("outer", group=True, children=[ldl_group()]), Item("Background")])
    assert "LDL detail mask" in item_names(image)
    assert new_layer_names(image).group == "LDL 2"
    image.layers.insert(0, ldl_group(" 2"))
    assert new_layer_names(image).detail == "LDL detail 3"


def test_a_channel_or_mask_with_an_ldl_name_counts_as_taken() -> None:
    assert new_layer_names(Image([Item("Background")], channels=[Item("LDL reference")])).index == 2
    masked = Item("paint", mask=Item("LDL mask", is_mask=True))
    assert new_layer_names(Image([masked])).index == 2


def test_walk_lists_groups_before_their_children_top_first() -> None:
    image = Image([ldl_group(), Item("Background")])
    assert [item.get_name() for item in walk(image.get_layers())] == [
        "LDL",
        "LDL artifact map",
        "LDL detail",
        "LDL reference",
        "Background",
    ]


def test_the_blend_takes_the_group_around_the_selected_drawable_else_the_topmost() -> None:
    newer, older = ldl_group(" 2"), ldl_group()
    image = Image([newer, Item("LDL", group=False), older, Item("Background")])
    assert [names.index for _, names in ldl_groups(image)] == [2, 1], "a plain layer called LDL is no group"
    assert chosen_group(image, [])[0] is newer
    assert chosen_group(image, [image.layers[-1]])[0] is newer
    detail_of_older = older.children[1]
    assert chosen_group(image, [detail_of_older])[0] is older
    assert detail_of_older.mask is not None
    layer_of_mask = {detail_of_older.mask.id: detail_of_older}
    chosen = chosen_group(image, [detail_of_older.mask], lambda mask: layer_of_mask[mask.get_id()])
    assert chosen[0] is older, "a selected mask counts as its layer"


def test_the_blend_needs_a_group_and_a_masked_detail_layer() -> None:
    with pytest.raises(NothingToBlend, match="no LDL group"):
        chosen_group(Image([Item("Background")]), [])
    group = ldl_group()
    detail, mask = masked_detail(group, ldl_groups(Image([group]))[0][1])
    assert (detail.get_name(), mask.get_name()) == ("LDL detail", "LDL detail mask")
    group.children[1].mask = None
    with pytest.raises(NothingToBlend, match="with a layer mask") as caught:
        masked_detail(group, ldl_groups(Image([group]))[0][1])
    assert caught.value.hint
