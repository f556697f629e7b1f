"""The app's mask editing equals the backend's mask maths, stroke by stroke, and undo gives back exact states."""

from __future__ import annotations

import numpy as np
import pytest

from ldl_backend.artifacts.masks import EditMode, Stroke, combine_mask, mask_from_map
from ui.state.mask_editor import Brush, BrushMode, MaskEditor, Ramp


@pytest.fixture
def artifact_map() -> np.ndarray:
    return np.random.default_rng(3).random((150, 260)).astype(np.float32)


def paint(editor: MaskEditor, points: list[tuple[float, float]], brush: Brush) -> None:
    editor.begin_stroke(*points[0], brush)
    for point in points[1:]:
        editor.extend_stroke(*point)
    editor.end_stroke()


def test_strokes_painted_move_by_move_equal_the_backends_combine_mask(artifact_map: np.ndarray) -> None:
    editor = MaskEditor(artifact_map, Ramp(0.4, 0.2))
    strokes = [
        ([(10.0, 10.0), (60.0, 40.0), (120.0, 42.5), (125.0, 100.0)], Brush(9.0, 0.3, 0.7, BrushMode.REMOVE)),
        ([(100.0, 50.0), (30.0, 60.0), (100.0, 52.0)], Brush(14.0, 1.0, 1.0, BrushMode.KEEP)),  # doubles back
        ([(200.0, 140.0)], Brush(30.0, 0.0, 0.5, BrushMode.KEEP)),  # one dab, reaching past the edge
    ]
    edits = []
    for points, brush in strokes:
        paint(editor, points, brush)
        mode = EditMode.KEEP if brush.mode is BrushMode.KEEP else EditMode.REMOVE
        edits.append(Stroke(tuple(points), brush.radius, mode, brush.hardness, brush.opacity))
        expected = combine_mask(mask_from_map(artifact_map, 0.4, 0.2), edits)
        np.testing.assert_allclose(editor.mask, expected, atol=2e-7)


def test_the_eraser_takes_strokes_back_to_the_threshold_mask(artifact_map: np.ndarray) -> None:
    editor = MaskEditor(artifact_map, Ramp(0.5, 0.1))
    base = editor.mask.copy()
    paint(editor, [(50.0, 50.0), (150.0, 60.0)], Brush(20.0, 1.0, 1.0, BrushMode.REMOVE))
    assert not np.array_equal(editor.mask, base)
    paint(editor, [(40.0, 50.0), (160.0, 60.0)], Brush(40.0, 1.0, 1.0, BrushMode.ERASE))
    np.testing.assert_allclose(editor.mask, base, atol=1e-7)
    assert not editor.painted


def test_strokes_survive_threshold_changes_and_invert_flips_the_mask(artifact_map: np.ndarray) -> None:
    editor = MaskEditor(artifact_map, Ramp(0.3, 0.4))
    brush = Brush(12.0, 0.6, 0.9, BrushMode.KEEP)
    paint(editor, [(20.0, 100.0), (240.0, 20.0)], brush)
    editor.set_ramp(Ramp(0.7, 0.05))
    editor.refresh(editor.full)
    stroke = Stroke(((20.0, 100.0), (240.0, 20.0)), 12.0, EditMode.KEEP, 0.6, 0.9)
    expected = combine_mask(mask_from_map(artifact_map, 0.7, 0.05), [stroke])
    np.testing.assert_allclose(editor.mask, expected, atol=2e-7)
    editor.invert()
    np.testing.assert_allclose(editor.mask, 1.0 - expected, atol=2e-7)
    # After inverting, a "keep" stroke still keeps detail where it paints.
    paint(editor, [(130.0, 75.0)], Brush(5.0, 1.0, 1.0, BrushMode.KEEP))
    assert editor.mask[75, 130] == pytest.approx(1.0)


def test_undo_and_redo_restore_exact_states(artifact_map: np.ndarray) -> None:
    editor = MaskEditor(artifact_map, Ramp())
    states = [editor.mask.copy()]
    paint(editor, [(10.0, 10.0), (250.0, 140.0)], Brush(25.0, 0.5, 1.0, BrushMode.REMOVE))
    states.append(editor.mask.copy())
    editor.invert()
    states.append(editor.mask.copy())
    paint(editor, [(200.0, 30.0), (30.0, 130.0)], Brush(8.0, 0.9, 0.5, BrushMode.KEEP))
    states.append(editor.mask.copy())
    editor.clear()
    states.append(editor.mask.copy())
    for expected in reversed(states[:-1]):
        assert editor.can_undo
        editor.undo()
        assert np.array_equal(editor.mask, expected)
    assert not editor.can_undo and editor.undo().is_empty
    for expected in states[1:]:
        editor.redo()
        assert np.array_equal(editor.mask, expected)
    assert not editor.can_redo
    editor.undo()
    paint(editor, [(5.0, 5.0)], Brush(3.0))
    assert not editor.can_redo  # a new edit forgets the redo branch


def test_undo_memory_is_capped_and_only_touched_tiles_are_kept(artifact_map: np.ndarray) -> None:
    big = np.zeros((1024, 1024), np.float32)
    editor = MaskEditor(big, Ramp(), history_bytes=3 * 2 * 128 * 128 * 4)
    for step in range(5):
        # Each dab sits inside one 128×128 tile: two float32 tiles (painted, coverage) per step.
        paint(editor, [(64.0 + 128 * step, 64.0)], Brush(10.0, mode=BrushMode.REMOVE))
    undone = 0
    while editor.can_undo:
        editor.undo()
        undone += 1
    assert undone == 3
    # The two oldest strokes could no longer be undone; they are still on the mask.
    assert editor.mask[64, 64] == 0.0 and editor.mask[64, 64 + 128] == 0.0
    assert editor.mask[64, 64 + 128 * 2] == 1.0 and editor.mask[64, 64 + 128 * 4] == 1.0


def test_bad_brushes_and_ramps_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="radius"):
        Brush(0.0)
    with pytest.raises(ValueError, match="opacity"):
        Brush(4.0, opacity=1.5)
    with pytest.raises(ValueError, match="threshold"):
        Ramp(float("nan"))
    with pytest.raises(ValueError, match="H×W"):
        MaskEditor(np.zeros((2, 2, 1), np.float32), Ramp())
