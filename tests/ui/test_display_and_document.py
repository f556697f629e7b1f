"""What the screen shows, and how the document keeps mask, blend and display buffers in step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qtpy.QtCore import QRect

from ldl_backend.artifacts.blend import blend
from ldl_backend.artifacts.masks import mask_from_map
from ldl_backend.artifacts.pixel_box import PixelBox
from ldl_backend.imageio import ImageData
from ui.state import display
from ui.state.display import MaskStyle
from ui.state.document import Document, Resample, SourceImage, View
from ui.state.layers import ResultLayers
from ui.state.mask_editor import Brush, BrushMode, Ramp
from ui.state.raw_arrays import array_to_raw, raw_to_array


@pytest.mark.parametrize(
    ("dtype", "scale"), [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)], ids=["uint8", "uint16", "float32"]
)
@pytest.mark.parametrize("channels", [1, 3])
def test_colour_becomes_8_bit_rgba_rounded(dtype: type, scale: float, channels: int) -> None:
    rng = np.random.default_rng(0)
    values = rng.random((20, 30, channels))
    colour = (values * scale).round().astype(dtype) if dtype is not np.float32 else values.astype(np.float32)
    alpha = (rng.random((20, 30)) * scale).round().astype(dtype) if dtype is not np.float32 else None
    out = display.new_rgba(20, 30)
    display.write_colour(colour, alpha, out, PixelBox(0, 0, 30, 20))
    expected = np.round(colour.astype(np.float64) / scale * 255).astype(np.uint8)
    assert np.abs(out[:, :, :3].astype(int) - expected.astype(int)).max() <= (0 if dtype is not np.float32 else 1)
    expected_alpha = 255 if alpha is None else np.round(alpha / scale * 255).astype(np.uint8)
    assert np.array_equal(out[:, :, 3], np.broadcast_to(expected_alpha, (20, 30)))


def test_a_box_write_touches_only_the_box() -> None:
    out = display.new_rgba(10, 12)
    colour = np.full((10, 12, 3), 200, np.uint8)
    display.write_colour(colour, None, out, PixelBox(3, 2, 7, 5))
    touched = out[:, :, 3] == 255
    assert touched.sum() == 4 * 3 and touched[2:5, 3:7].all()


def test_tint_grows_where_detail_is_removed_and_the_outline_follows_the_edge() -> None:
    mask = np.ones((8, 8), np.float32)
    mask[2:6, 2:6] = 0.0
    out = display.new_rgba(8, 8)
    display.write_decoration(mask, out, PixelBox(0, 0, 8, 8), MaskStyle.TINT)
    assert out[0, 0, 3] == 0 and out[3, 3, 3] == display.TINT_MAX_ALPHA
    assert tuple(out[3, 3, :3]) == display.TINT_RGB
    display.write_decoration(mask, out, PixelBox(0, 0, 8, 8), MaskStyle.OUTLINE)
    edge = out[:, :, 3] == 255
    # The kept pixels next to the removed square: a one-pixel ring around it, none far from it or inside it.
    assert edge[1, 2:6].all() and edge[2:6, 1].all() and not edge[3, 3] and not edge[0, 0]
    display.write_decoration(mask, out, PixelBox(0, 0, 8, 8), MaskStyle.HIDDEN)
    assert not out.any()


def test_heat_table_runs_from_clear_to_opaque_red() -> None:
    table = display.heat_table()
    assert table[0, 3] == 0 and table[255, 3] == 255 and table[255, 0] > 200 > table[255, 1]


def test_raw_arrays_round_trip() -> None:
    for array in (
        np.arange(24, dtype=np.uint16).reshape(2, 4, 3),
        np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4),
    ):
        raw = array_to_raw(array)
        assert np.array_equal(raw_to_array(raw).reshape(array.shape), array)
    with pytest.raises(ValueError, match="cannot send"):
        array_to_raw(np.zeros((2, 2, 3), np.int32))


def _document(tmp_path: Path, size: int = 96) -> tuple[Document, ResultLayers]:
    rng = np.random.default_rng(5)
    source = (rng.random((size // 4, size // 4, 3)) * 255).astype(np.uint8)
    detail = (rng.random((size, size, 3)) * 255).astype(np.uint8)
    reference = (rng.random((size, size, 3)) * 255).astype(np.uint8)
    artifact_map = rng.random((size, size)).astype(np.float32)
    document = Document(SourceImage(tmp_path / "x.png", b"", ImageData(source)))
    layers = ResultLayers("job", detail, reference, None, artifact_map)
    document.set_result(layers, Ramp(0.3, 0.4))
    return document, layers


def test_a_threshold_change_does_the_visible_part_first_then_the_rest(qtbot: QtBot, tmp_path: Path) -> None:
    document, layers = _document(tmp_path, 600)
    changed: list[QRect] = []
    document.display_changed.connect(lambda rect: changed.append(rect))
    visible = PixelBox(100, 150, 300, 260)
    document.set_ramp(Ramp(0.6, 0.1), visible)
    # At once: exactly the visible box; the rest waits for the event loop.
    assert len(changed) == 1 and (changed[0].x(), changed[0].y(), changed[0].width(), changed[0].height()) == (
        100,
        150,
        200,
        110,
    )
    expected_mask = mask_from_map(layers.artifact_map, 0.6, 0.1)
    editor = document.editor
    assert editor is not None
    assert np.array_equal(editor.mask[150:260, 100:300], expected_mask[150:260, 100:300])
    assert not np.array_equal(editor.mask, expected_mask)
    qtbot.waitUntil(lambda: not document._pending, timeout=5000)
    assert np.array_equal(editor.mask, expected_mask)
    assert np.array_equal(document.result_image().colour, blend(layers.detail, layers.reference, expected_mask))
    # The screen's copy of the result follows too.
    shown = document.image(View.RESULT)
    pixel = shown.pixelColor(450, 500)
    assert (pixel.red(), pixel.green(), pixel.blue()) == tuple(document.result_image().colour[500, 450])


def test_strokes_and_undo_keep_blend_and_display_in_step(tmp_path: Path) -> None:
    document, layers = _document(tmp_path)
    document.begin_stroke(20.0, 20.0, Brush(10.0, 1.0, 1.0, BrushMode.KEEP))
    document.extend_stroke(70.0, 40.0)
    document.end_stroke()
    mask = document.mask()
    assert mask[30, 45] == 1.0
    assert np.array_equal(document.result_image().colour, blend(layers.detail, layers.reference, mask))
    document.undo()
    assert np.array_equal(document.mask(), mask_from_map(layers.artifact_map, 0.3, 0.4))
    assert np.array_equal(document.result_image().colour, blend(layers.detail, layers.reference, document.mask()))
    assert document.modified
    document.mark_saved()
    assert not document.modified


def test_the_original_is_shown_as_pixels_or_bicubic(tmp_path: Path) -> None:
    document, layers = _document(tmp_path)
    source = document.source.image.colour
    document.set_resample(Resample.NEAREST)
    nearest = document.image(View.ORIGINAL)
    assert (nearest.width(), nearest.height()) == (layers.width, layers.height)
    for x, y in ((0, 0), (37, 50), (95, 95)):
        colour = nearest.pixelColor(x, y)
        assert (colour.red(), colour.green(), colour.blue()) == tuple(source[y // 4, x // 4])
    document.set_resample(Resample.BICUBIC)
    smooth = document.image(View.ORIGINAL)
    assert smooth.pixelColor(37, 50) != nearest.pixelColor(37, 50) or smooth.pixelColor(38, 49) != nearest.pixelColor(
        38, 49
    )


def test_a_rerun_keeps_the_strokes_painted_on_the_previous_result(tmp_path: Path) -> None:
    document, layers = _document(tmp_path)
    document.begin_stroke(40.0, 40.0, Brush(8.0, 1.0, 1.0, BrushMode.REMOVE))
    document.end_stroke()
    assert document.mask()[40, 40] == 0.0
    rerun = ResultLayers("job2", layers.reference, layers.detail, None, np.zeros_like(layers.artifact_map))
    document.set_result(rerun, Ramp(0.3, 0.4))
    mask = document.mask()
    assert mask[40, 40] == 0.0 and mask[5, 5] == 1.0  # the stroke stays; elsewhere the new map (all 0) keeps detail
    assert document.layers is rerun
