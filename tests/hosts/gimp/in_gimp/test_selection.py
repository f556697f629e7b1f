"""With a selection only its bounding box is upscaled: into a new image, or into a group at the selection whose
names are numbered when the image already has an LDL group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .gimp import UPSCALE, Gimp, child, floats, layer_names, open_photo, run
from .pixels import TOLERANCE, backend_floats, difference

if TYPE_CHECKING:
    from ldl_client import Client

SELECTION = (8, 4, 20, 16)  # x, y, width, height in the 64×48 photo
SCALE = 4


@pytest.fixture
def photo(host_config: dict[str, Any]) -> Iterator[Any]:
    image = open_photo(host_config["photo"])
    image.select_rectangle(Gimp.ChannelOps.REPLACE, *SELECTION)
    image.clean_all()
    yield image
    image.delete()


def test_a_selection_goes_into_a_new_image(photo: Any, client: Client, compact: str) -> None:
    before = layer_names(photo)
    outcome = run(UPSCALE, photo, photo.get_layers(), model=compact, reference="lanczos", selection_target="new-image")
    assert outcome.ok, outcome.error
    result, group, job_id = outcome.values
    try:
        assert result.get_id() != photo.get_id()
        assert (result.get_width(), result.get_height()) == (SELECTION[2] * SCALE, SELECTION[3] * SCALE)
        assert result.get_precision() == photo.get_precision()
        assert layer_names(result) == [("LDL", ["LDL artifact map", "LDL detail", "LDL reference"])]
        assert group.get_id() == result.get_layers()[0].get_id()
        reference = child(group, "LDL reference")
        assert reference.get_offsets()[1:] == (0, 0)
        raw = client.layer(job_id, "reference", "raw")
        found = difference(backend_floats(raw), floats(reference, "R'G'B' float"), TOLERANCE["U8_NON_LINEAR"])
        assert found.over == 0, found.describe(TOLERANCE["U8_NON_LINEAR"])
        assert (photo.get_width(), photo.get_height(), layer_names(photo)) == (64, 48, before), "the source changed"
        assert not photo.is_dirty(), "the source image got an undo step"
    finally:
        result.delete()


def test_a_selection_goes_into_a_numbered_group_at_the_selection(photo: Any, compact: str) -> None:
    for index, names in enumerate(("LDL", "LDL 2"), start=1):
        source = photo.get_layers()[-1]
        outcome = run(UPSCALE, photo, [source], model=compact, reference="lanczos", selection_target="layer-group")
        assert outcome.ok, outcome.error
        result, group, _ = outcome.values
        assert result.get_id() == photo.get_id()
        assert (photo.get_width(), photo.get_height()) == (64, 48), "the image keeps its size"
        assert group.get_name() == names
        suffix = "" if index == 1 else f" {index}"
        assert [layer.get_name() for layer in group.get_children()] == [
            f"LDL artifact map{suffix}",
            f"LDL detail{suffix}",
            f"LDL reference{suffix}",
        ]
        for layer in group.get_children():
            size = (layer.get_width(), layer.get_height())
            assert (size, layer.get_offsets()[1:]) == ((80, 64), SELECTION[:2]), layer.get_name()
    # Each group goes right above the layer it was made from, so the newer one sits between it and the older one.
    assert [name for name, _ in layer_names(photo)] == ["LDL", "LDL 2", "Background"]
