"""Where an upscale reads and where its group goes, for the whole image and both selection targets."""

from __future__ import annotations

import pytest
from ldl_gimp.errors import UnsupportedImage
from ldl_gimp.placement import Placement, Region


def test_without_a_selection_the_whole_drawable_is_upscaled_and_the_image_scaled() -> None:
    region = Region.choose((60, 40), (5, 7), None, "layer-group")
    assert region == Region(0, 0, 60, 40, (5, 7), "image")
    assert region.place((100, 80), 4) == Placement(
        scale_image_to=(400, 320), new_image_size=None, offset=(20, 28), size=(240, 160)
    )


def test_a_selection_goes_into_a_new_image() -> None:
    region = Region.choose((60, 40), (5, 7), (10, 4, 20, 30), "new-image")
    assert region == Region(10, 4, 20, 30, (5, 7), "new-image")
    assert region.place((100, 80), 2) == Placement(
        scale_image_to=None, new_image_size=(40, 60), offset=(0, 0), size=(40, 60)
    )


def test_a_selection_goes_into_a_group_at_the_selection() -> None:
    region = Region.choose((60, 40), (5, 7), (10, 4, 20, 30), "layer-group")
    assert region.place((100, 80), 4) == Placement(
        scale_image_to=None, new_image_size=None, offset=(15, 11), size=(80, 120)
    )


def test_a_selection_past_the_drawable_is_clipped_to_it() -> None:
    region = Region.choose((60, 40), (0, 0), (-5, 30, 20, 30), "new-image")
    assert (region.x, region.y, region.width, region.height) == (0, 30, 15, 10)


def test_a_selection_beside_the_drawable_is_refused() -> None:
    with pytest.raises(UnsupportedImage, match="does not touch"):
        Region.choose((60, 40), (0, 0), (0, 0, 0, 0), "new-image")


def test_a_scale_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        Region.choose((6, 4), (0, 0), None, "new-image").place((6, 4), 0)
