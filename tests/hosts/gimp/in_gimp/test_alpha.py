"""Layers with alpha: real transparency travels to the backend and back (RGBA), an opaque alpha channel is not sent
(RGB, one pass) and the result layers keep an alpha channel like their source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .gimp import UPSCALE, Gimp, child, floats, open_photo, run
from .pixels import TOLERANCE, backend_floats, difference

if TYPE_CHECKING:
    from ldl_client import Client


@pytest.mark.parametrize(("precision", "transparent"), [("U16_PERCEPTUAL", True), ("U8_NON_LINEAR", False)])
def test_alpha_goes_to_the_backend_only_when_it_is_real(
    host_config: dict[str, Any], client: Client, compact: str, precision: str, transparent: bool
) -> None:
    image = open_photo(host_config["photo"], precision)
    try:
        layer = image.get_layers()[0]
        layer.add_alpha()
        if transparent:
            image.select_rectangle(Gimp.ChannelOps.REPLACE, 10, 10, 20, 12)
            layer.edit_clear()
            Gimp.Selection.none(image)
        outcome = run(UPSCALE, image, [layer], model=compact, reference="lanczos")
        assert outcome.ok, outcome.error
        group, job_id = outcome.values[1], outcome.values[2]
        detail = child(group, "LDL detail")
        assert detail.has_alpha() and child(group, "LDL reference").has_alpha()
        raw = client.layer(job_id, "detail", "raw")
        assert raw.channels == (4 if transparent else 3)
        actual = floats(detail, "R'G'B'A float" if transparent else "R'G'B' float")
        tolerance = TOLERANCE[precision]
        found = difference(backend_floats(raw), actual, tolerance)
        assert found.over == 0, f"LDL detail ({precision}, alpha {transparent}): {found.describe(tolerance)}"
        alpha = floats(detail, "R'G'B'A float")[3::4]
        assert (min(alpha) < 0.5) is transparent, "transparency went missing, or appeared"
    finally:
        image.delete()
