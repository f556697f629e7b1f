"""What cannot be upscaled, and jobs the backend refuses or fails, leave the image as it was: its size, its layers
and no undo step (every undo step dirties an image: ``is_dirty`` stays false after ``clean_all``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .gimp import BLEND, UPSCALE, Gimp, layer_names, open_photo, run


@pytest.fixture
def photo(host_config: dict[str, Any]) -> Iterator[Any]:
    image = open_photo(host_config["photo"], "U16_PERCEPTUAL")
    yield image
    image.delete()


def unchanged(image: Any) -> tuple[Any, ...]:
    return (image.get_width(), image.get_height(), layer_names(image), image.is_dirty())


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"tile": 16}, "tile"),  # the compact model needs more than its overlap: the job fails on the backend
        ({"model": "no-such-model"}, "no-such-model"),  # refused when submitted
    ],
)
def test_a_failing_job_leaves_the_image_unchanged(
    photo: Any, compact: str, arguments: dict[str, Any], words: str
) -> None:
    before = unchanged(photo)
    assert before[3] is False
    outcome = run(UPSCALE, photo, photo.get_layers(), **{"model": compact, "reference": "lanczos", **arguments})
    assert outcome.status == Gimp.PDBStatusType.EXECUTION_ERROR, outcome
    assert words in outcome.error, outcome.error
    assert "(hint: " in outcome.error, f"the backend's hint is missing: {outcome.error}"
    assert unchanged(photo) == before


def test_a_bad_argument_is_a_calling_error_naming_it(photo: Any, compact: str) -> None:
    before = unchanged(photo)
    outcome = run(UPSCALE, photo, photo.get_layers(), model=compact, precision="fp8")
    assert outcome.status == Gimp.PDBStatusType.CALLING_ERROR, outcome
    assert "precision 'fp8'" in outcome.error and "(hint: " in outcome.error, outcome.error
    assert unchanged(photo) == before


def test_an_indexed_image_gets_a_clear_message(compact: str) -> None:
    image = Gimp.Image.new(8, 8, Gimp.ImageBaseType.INDEXED)
    try:
        layer = Gimp.Layer.new(image, "paint", 8, 8, Gimp.ImageType.INDEXED_IMAGE, 100.0, Gimp.LayerMode.NORMAL)
        image.insert_layer(layer, None, 0)
        outcome = run(UPSCALE, image, [layer], model=compact)
        assert outcome.status == Gimp.PDBStatusType.EXECUTION_ERROR
        assert "indexed" in outcome.error and "Image › Mode › RGB" in outcome.error, outcome.error
    finally:
        image.delete()


def test_the_blend_needs_an_ldl_group_and_a_selection(photo: Any) -> None:
    outcome = run(BLEND, photo, photo.get_layers())
    assert "no selection" in outcome.error, outcome.error
    photo.select_rectangle(Gimp.ChannelOps.REPLACE, 0, 0, 8, 8)
    photo.clean_all()
    outcome = run(BLEND, photo, photo.get_layers())
    assert outcome.status == Gimp.PDBStatusType.EXECUTION_ERROR
    assert "no LDL group" in outcome.error, outcome.error
    assert not photo.is_dirty()
