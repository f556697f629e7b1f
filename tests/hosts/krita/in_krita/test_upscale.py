"""The plugin's upscale and selection blend on real documents of each depth, against the real backend's layers.

Each depth's document is the photo crop opened in Krita (then converted to that depth) and upscaled once through
the plugin's headless entry point (compact model, Lanczos reference): the tests below read what it left in Krita
and compare it with what the backend computed for the same job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .documents import COMPACT, Upscaled, Upscales, settle, show
from .layers import DETAIL, MAP, MASK, REFERENCE, check_ldl_stack, ldl_group, ldl_layer, ldl_mask
from .menus import menu_action
from .pixels import TOLERANCE, as_rgba, difference, krita_mask, krita_rgba, raw_values

if TYPE_CHECKING:
    from ldl_client import Client, LayerName

DEPTHS = ["U8", "U16", "F16", "F32"]
SCALE = 4  # the compact model's
MASK_TOLERANCE = 1 / 255  # Krita's transparency masks hold 8 bits
FEATHER = 4


def mask_values(run: Upscaled) -> list[float]:
    width, height = run.document.width(), run.document.height()
    data = bytes(ldl_mask(run.document).pixelData(0, 0, width, height))
    assert data, f"{MASK} has no pixel data (a transparency mask without a paint device)"
    return krita_mask(data, width * height)


@pytest.mark.parametrize("depth", DEPTHS)
def test_upscale_scales_the_document_and_adds_the_ldl_layers(upscaled: Upscales, client: Client, depth: str) -> None:
    run = upscaled(depth)
    document, (width, height) = run.document, run.source
    assert (document.width(), document.height()) == (SCALE * width, SCALE * height)
    assert (run.outcome.width, run.outcome.height) == (SCALE * width, SCALE * height)
    assert (document.colorModel(), document.colorDepth()) == ("RGBA", depth), "the document's depth changed"
    job = client.job(run.outcome.job_id)
    assert (job.state.value, job.model) == ("succeeded", COMPACT)
    assert (job.width, job.height) == (document.width(), document.height())
    assert run.progress, "on_progress was never called"
    done, total, _ = run.progress[-1]
    assert 0 < total == done, f"the last progress report is {run.progress[-1]}, not a finished stage"
    check_ldl_stack(document)


@pytest.mark.parametrize("depth", DEPTHS)
def test_reference_and_detail_equal_the_backend_layers(upscaled: Upscales, client: Client, depth: str) -> None:
    run = upscaled(depth)
    width, height = run.document.width(), run.document.height()
    seen: dict[str, list[float]] = {}
    pairs: tuple[tuple[str, LayerName], ...] = ((REFERENCE, "reference"), (DETAIL, "detail"))
    for name, backend_name in pairs:
        raw = client.layer(run.outcome.job_id, backend_name, "raw")
        assert (raw.width, raw.height) == (width, height)
        expected = as_rgba(raw_values(raw.data, raw.dtype), raw.channels)
        actual = krita_rgba(bytes(ldl_layer(run.document, name).pixelData(0, 0, width, height)), depth)
        found = difference(expected, actual, width, 4, TOLERANCE[depth])
        assert found.over == 0, f"{name} ({depth}, backend {raw.dtype}): {found.describe(TOLERANCE[depth])}"
        seen[name] = actual
    apart = difference(seen[REFERENCE], seen[DETAIL], width, 4, TOLERANCE[depth])
    assert apart.over > 0, "the detail layer is the reference: the model added nothing"


@pytest.mark.parametrize("depth", DEPTHS)
def test_mask_and_artifact_map_follow_the_backend(upscaled: Upscales, client: Client, depth: str) -> None:
    run = upscaled(depth)
    width, height = run.document.width(), run.document.height()
    mask = client.layer(run.outcome.job_id, "mask", "raw")
    assert (mask.width, mask.height, mask.channels) == (width, height, 1)
    found = difference(raw_values(mask.data, mask.dtype), mask_values(run), width, 1, MASK_TOLERANCE)
    assert found.over == 0, f"{MASK} ({depth}): {found.describe(MASK_TOLERANCE)}"

    artifact_map = client.layer(run.outcome.job_id, "map", "raw")
    assert (artifact_map.width, artifact_map.height, artifact_map.channels) == (width, height, 1)
    expected = as_rgba(raw_values(artifact_map.data, artifact_map.dtype), 1)
    actual = krita_rgba(bytes(ldl_layer(run.document, MAP).pixelData(0, 0, width, height)), depth)
    found = difference(expected, actual, width, 4, TOLERANCE[depth])
    assert found.over == 0, f"{MAP} ({depth}): {found.describe(TOLERANCE[depth])}"


@pytest.mark.parametrize("depth", DEPTHS)
def test_blend_action_whitens_the_mask_inside_the_selection_only(
    upscaled: Upscales, krita: Any, window: Any, depth: str
) -> None:
    """Filter › Enhance › "LDL: blend detail into selection", clicked in the menubar, on a feathered selection."""
    from krita import Selection  # pyright: ignore[reportMissingImports, reportAttributeAccessIssue]

    run = upscaled(depth)
    document = run.document
    width, height = document.width(), document.height()
    show(window, document)
    assert krita.activeDocument() == document
    # Paint the whole mask black first, as a user might: then every pixel tells what the blend did.
    mask = ldl_mask(document)
    mask.setPixelData(bytes(width * height), 0, 0, width, height)
    document.waitForDone()
    assert max(mask_values(run)) == 0.0, f"painting {MASK} black through setPixelData did not take"

    selection = Selection()
    selection.select(width // 4, height // 4, width // 2, height // 2, 255)
    selection.feather(FEATHER)
    document.setSelection(selection)
    document.waitForDone()
    coverage = krita_mask(bytes(document.selection().pixelData(0, 0, width, height)), width * height)
    partial = [index for index, value in enumerate(coverage) if 0.0 < value < 1.0]
    assert partial, "the feathered selection has no soft edge"

    menu_action(window, "ldl_blend_selection").trigger()
    document.waitForDone()
    settle()
    after = mask_values(run)
    inside = [after[index] for index, value in enumerate(coverage) if value == 1.0]
    outside = [after[index] for index, value in enumerate(coverage) if value == 0.0]
    assert inside and min(inside) == 1.0, f"{inside.count(1.0)} of {len(inside)} selected pixels turned white"
    assert outside and max(outside) == 0.0, f"{sum(v > 0 for v in outside)} pixels outside the selection changed"
    # On the soft edge the mask follows the selection's coverage (white blended over black: the coverage itself).
    found = difference([coverage[index] for index in partial], [after[index] for index in partial], 1, 1, 2 / 255)
    assert found.over == 0, f"feathered edge: {found.describe(2 / 255)}"
    assert any(0.0 < after[index] < 1.0 for index in partial), "the feathering was ignored"


def test_screenshot_of_the_result(upscaled: Upscales, krita: Any, window: Any, host_config: dict[str, Any]) -> None:
    """Krita with the 8-bit result: the LDL group open in the Layers docker, its mask selected, the image at 300%."""
    from PyQt5.QtGui import QCursor  # pyright: ignore[reportMissingImports]
    from PyQt5.QtWidgets import QAbstractScrollArea, QMdiArea  # pyright: ignore[reportMissingImports]

    run = upscaled("U8")
    qwindow = window.qwindow()
    qwindow.setGeometry(0, 0, 1280, 1024)  # no window manager under Xvfb to maximize it
    show(window, run.document)
    ldl_group(run.document).setCollapsed(False)
    ldl_layer(run.document, DETAIL).setCollapsed(False)
    run.document.setActiveNode(ldl_mask(run.document))
    krita.action("deselect").trigger()
    QCursor.setPos(1279, 1023)  # keep the brush outline off the canvas
    settle(1.0)
    run.view.canvas().setZoomLevel(3.0)
    settle()
    # The view keeps the scroll position it had before the image grew: centre the canvas's scroll bars.
    for scroller in qwindow.findChild(QMdiArea).activeSubWindow().findChildren(QAbstractScrollArea):
        for bar in (scroller.horizontalScrollBar(), scroller.verticalScrollBar()):
            bar.setValue((bar.minimum() + bar.maximum()) // 2)
    settle(1.0)
    assert qwindow.grab().save(host_config["screenshot"], "PNG"), "saving the screenshot failed"
