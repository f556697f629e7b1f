""" "Blend LDL detail into selection": the detail mask becomes max(mask, selection) inside the selection, feathered
edges included, and stays as it was elsewhere; the group holding the selected layer is the one changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .gimp import BLEND, UPSCALE, Gimp, child, floats, open_photo, run

MASK_TOLERANCE = 0.6 / 255  # an 8-bit image's masks hold 8 bits


@pytest.fixture
def upscaled_photo(host_config: dict[str, Any], compact: str) -> Iterator[Any]:
    image = open_photo(host_config["photo"])
    outcome = run(UPSCALE, image, image.get_layers(), model=compact, reference="lanczos")
    assert outcome.ok, outcome.error
    yield image
    image.delete()


def detail_mask(group: Any) -> Any:
    return child(group, f"LDL detail{group.get_name()[3:]}").get_mask()


def test_the_mask_becomes_the_max_of_mask_and_selection(upscaled_photo: Any) -> None:
    image = upscaled_photo
    group = image.get_layers()[0]
    assert group.get_name() == "LDL"
    mask = detail_mask(group)
    image.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 30, 160, 120)
    assert Gimp.Selection.feather(image, 16.0)
    before = floats(mask, "Y float")
    selection = floats(image.get_selection(), "Y float")
    outcome = run(BLEND, image, [image.get_layers()[-1]])
    assert outcome.ok, outcome.error
    assert outcome.values[0].get_id() == group.get_id()
    after = floats(mask, "Y float")
    inside = outside = feathered = 0
    for index, (was, covered, now) in enumerate(zip(before, selection, after, strict=True)):
        if covered == 0.0:
            assert now == was, f"pixel {index} outside the selection changed: {was} → {now}"
            outside += 1
        elif covered == 1.0:
            assert now == 1.0, f"pixel {index} inside the selection is {now}, not white"
            inside += 1
        else:
            assert now == pytest.approx(max(was, covered), abs=MASK_TOLERANCE), (index, was, covered, now)
            feathered += was < covered
    # The compact model's mask keeps most detail already: few feathered pixels had less than their coverage.
    assert inside and outside and feathered > 20, (inside, outside, feathered)


def test_the_group_holding_the_selected_layer_is_the_one_blended(upscaled_photo: Any, compact: str) -> None:
    image = upscaled_photo
    image.select_rectangle(Gimp.ChannelOps.REPLACE, 0, 0, 16, 16)
    outcome = run(
        UPSCALE, image, [image.get_layers()[-1]], model=compact, reference="lanczos", selection_target="layer-group"
    )
    assert outcome.ok, outcome.error
    groups = {layer.get_name(): layer for layer in image.get_layers() if layer.is_group_layer()}
    assert set(groups) == {"LDL", "LDL 2"}
    newer, older = groups["LDL 2"], groups["LDL"]
    image.select_rectangle(Gimp.ChannelOps.REPLACE, 0, 0, 64, 64)
    newer_before, older_before = floats(detail_mask(newer), "Y float"), floats(detail_mask(older), "Y float")
    outcome = run(BLEND, image, [child(older, "LDL reference")])
    assert outcome.ok, outcome.error
    assert outcome.values[0].get_id() == older.get_id()
    assert floats(detail_mask(newer), "Y float") == newer_before, "the other group's mask changed"
    older_after = floats(detail_mask(older), "Y float")
    assert older_after != older_before
    assert all(older_after[y * older.get_width() + x] == 1.0 for y in range(64) for x in range(64))
