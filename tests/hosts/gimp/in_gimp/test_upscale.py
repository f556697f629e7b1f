"""The upscale on real images of each precision, against the real backend's layers for the same job.

Each precision's image is the photo crop converted to it and upscaled once through the PDB (compact model, Lanczos
reference); the tests read what the plug-in left in GIMP and compare it with what the backend computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from .conftest import PRECISIONS, Upscaled
from .gimp import Gimp, child, floats, layer_names
from .pixels import MASK_TOLERANCE, TOLERANCE, backend_floats, channel_means, difference

if TYPE_CHECKING:
    from ldl_client import Client, LayerName

SCALE = 4  # the compact model's
NAMES = ["LDL artifact map", "LDL detail", "LDL reference"]  # top first


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_image_is_scaled_and_gets_the_ldl_group(upscaled: Callable[..., Upscaled], precision: str) -> None:
    run = upscaled(precision)
    image, (width, height) = run.image, run.source_size
    assert (image.get_width(), image.get_height()) == (SCALE * width, SCALE * height)
    assert image.get_precision() == getattr(Gimp.Precision, precision), "the image's precision changed"
    stack = layer_names(image)
    assert stack[0] == ("LDL", NAMES), stack
    assert len(stack) == 2, f"the photo's own layer and the group, not {stack}"
    background = image.get_layers()[1]
    assert (background.get_width(), background.get_height()) == (SCALE * width, SCALE * height), "not scaled"
    group = run.group
    assert group.get_id() == image.get_layers()[0].get_id(), "the returned group is the image's LDL group"
    assert run.outcome.values[0].get_id() == image.get_id(), "the result image is this image"
    for layer in group.get_children():
        assert (layer.get_width(), layer.get_height(), *layer.get_offsets()[1:]) == (
            image.get_width(),
            image.get_height(),
            0,
            0,
        )
        assert layer.get_format() is not None
    detail, reference, artifact_map = (
        child(group, name) for name in ("LDL detail", "LDL reference", "LDL artifact map")
    )
    assert detail.get_mask() is not None and detail.get_mask().get_name() == "LDL detail mask"
    assert reference.get_mask() is None and artifact_map.get_mask() is None
    assert (artifact_map.get_visible(), detail.get_visible(), reference.get_visible()) == (False, True, True)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_job_is_the_backends_and_succeeded(
    upscaled: Callable[..., Upscaled], client: Client, precision: str, compact: str
) -> None:
    run = upscaled(precision)
    job = client.job(run.job_id)
    assert (job.state.value, job.model) == ("succeeded", compact)
    assert (job.width, job.height) == (run.image.get_width(), run.image.get_height())


@pytest.mark.parametrize("precision", PRECISIONS)
def test_reference_and_detail_hold_the_backends_pixels(
    upscaled: Callable[..., Upscaled], client: Client, precision: str
) -> None:
    run = upscaled(precision)
    tolerance = TOLERANCE[precision]
    seen = {}
    pairs: tuple[tuple[LayerName, str], ...] = (("reference", "LDL reference"), ("detail", "LDL detail"))
    for name, layer_name in pairs:
        raw = client.layer(run.job_id, name, "raw")
        assert raw.channels == 3, f"an opaque photo goes without alpha, and its {name} comes back as RGB"
        actual = floats(child(run.group, layer_name), "R'G'B' float")
        found = difference(backend_floats(raw), actual, tolerance)
        assert found.over == 0, f"{layer_name} ({precision}, backend {raw.dtype}): {found.describe(tolerance)}"
        seen[name] = actual
    assert difference(seen["reference"], seen["detail"], tolerance).over > 0, "the detail is the reference"


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_image_went_to_the_backend_as_perceptual_values(upscaled: Callable[..., Upscaled], precision: str) -> None:
    """The Lanczos reference keeps the photo's mean colour: a linear image sent as linear values, or channels out of
    order, would move it far."""
    run = upscaled(precision)
    source = floats(run.image.get_layers()[1], "R'G'B' float")
    reference = floats(child(run.group, "LDL reference"), "R'G'B' float")
    for want, got in zip(channel_means(source, 3), channel_means(reference, 3), strict=True):
        assert got == pytest.approx(want, abs=0.01), (precision, channel_means(source, 3), channel_means(reference, 3))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_mask_and_the_map_are_the_backends(
    upscaled: Callable[..., Upscaled], client: Client, precision: str
) -> None:
    run = upscaled(precision)
    mask = client.layer(run.job_id, "mask", "raw")
    tolerance = MASK_TOLERANCE.get(precision, 1e-3)
    found = difference(backend_floats(mask), floats(child(run.group, "LDL detail").get_mask(), "Y float"), tolerance)
    assert found.over == 0, f"LDL detail mask ({precision}): {found.describe(tolerance)}"
    values = backend_floats(mask)
    assert min(values) < 0.5 < max(values), "a mask that neither keeps nor drops detail anywhere tests nothing"
    artifact_map = client.layer(run.job_id, "map", "raw")
    shown = floats(child(run.group, "LDL artifact map"), "R'G'B' float")
    tolerance = TOLERANCE[precision]
    for channel in range(3):
        found = difference(backend_floats(artifact_map), shown[channel::3], tolerance)
        assert found.over == 0, f"LDL artifact map channel {channel} ({precision}): {found.describe(tolerance)}"


def test_gray_images_stay_gray(upscaled: Callable[..., Upscaled], client: Client) -> None:
    run = upscaled("U16_PERCEPTUAL", gray=True)
    assert run.image.get_base_type() == Gimp.ImageBaseType.GRAY
    assert [layer.is_gray() for layer in run.group.get_children()] == [True, True, True]
    raw = client.layer(run.job_id, "detail", "raw")
    assert (raw.channels, raw.dtype) == (1, "uint16")
    found = difference(backend_floats(raw), floats(child(run.group, "LDL detail"), "Y' float"), 1 / 65535)
    assert found.over == 0, found.describe(1 / 65535)
