"""The mask the user edits: the threshold mask of the artifact map, with brush strokes painted over it.

The painting is kept apart from the threshold mask so that moving the threshold slider never loses a stroke:
``painted`` (premultiplied target) and ``coverage`` say what the strokes asked for, and the mask is
``base·(1 − coverage) + painted`` where ``base`` is the threshold mask. Painting with target t and coverage c moves a
pixel towards t by c — the same rule as the backend's ``combine_mask`` — and the eraser takes strokes away, back to
the threshold mask.

Strokes are painted segment by segment while the mouse moves; one stroke does not build up over itself because the
coverage of a stroke is the maximum over its segments (the nearest part of the line decides, as in ``Stroke``).
Undo keeps only the tiles a stroke touched.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from ldl_backend.artifacts.masks import EditMode, Stroke, edit_coverage, mask_from_map
from ldl_backend.artifacts.pixel_box import PixelBox
from ldl_client import DEFAULT_SOFTNESS, DEFAULT_THRESHOLD
from ui.state.history import History, TileEdit

TILE = 128
_BAND_SAMPLES = 1 << 16


class BrushMode(enum.Enum):
    KEEP = "keep"  # keep generated detail: the mask goes to 1
    REMOVE = "remove"  # remove it: the mask goes to 0 (the reference shows)
    ERASE = "erase"  # take strokes away: back to the threshold mask


@dataclass(frozen=True)
class Brush:
    """``radius`` in output pixels (> 0); ``hardness`` and ``opacity`` in [0, 1] (as the backend's ``Stroke``)."""

    radius: float = 32.0
    hardness: float = 0.5
    opacity: float = 1.0
    mode: BrushMode = BrushMode.KEEP

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius) and 0.0 < self.radius <= 4096.0):
            raise ValueError(f"brush radius {self.radius} must be between 0 and 4096 pixels")
        for name, value in (("hardness", self.hardness), ("opacity", self.opacity)):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"brush {name} {value} must be between 0 and 1")


@dataclass(frozen=True)
class Ramp:
    """The threshold mask: keep detail where the map is below ``threshold``, fading over ``softness``."""

    threshold: float = DEFAULT_THRESHOLD
    softness: float = DEFAULT_SOFTNESS

    def __post_init__(self) -> None:
        for name, value in (("threshold", self.threshold), ("softness", self.softness)):
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} {value} must be between 0 and 1")


@dataclass
class _StrokeInProgress:
    brush: Brush
    last: tuple[float, float]
    touched: np.ndarray  # bool per tile: saved into the "before" arrays yet?
    box: PixelBox


class MaskEditor:
    """Edits the H×W float32 mask (1 = keep detail) of one artifact map (H×W float32 in [0, 1]).

    Each editing call returns the box whose mask changed; ``mask`` is then current there. After ``set_ramp`` the
    mask is current only where ``refresh`` has been called since (the caller refreshes the visible part first).
    ``history_bytes`` caps the memory undo may use; the oldest steps are dropped first.
    """

    def __init__(self, artifact_map: np.ndarray, ramp: Ramp, history_bytes: int = 512 << 20) -> None:
        if artifact_map.ndim != 2 or artifact_map.size == 0:
            raise ValueError(f"the artifact map must be a non-empty H×W array, not {artifact_map.shape}")
        self._map = np.ascontiguousarray(artifact_map, dtype=np.float32)
        height, width = self._map.shape
        self._ramp = ramp
        self._inverted = False
        self._painted = np.zeros((height, width), np.float32)
        self._coverage = np.zeros((height, width), np.float32)
        self._mask = np.empty((height, width), np.float32)
        # Lazily made at the first stroke: the state before the stroke, and the stroke's own coverage.
        self._before: tuple[np.ndarray, np.ndarray] | None = None
        self._stroke_coverage: np.ndarray | None = None
        self._stroke: _StrokeInProgress | None = None
        self._history = History(history_bytes)
        self.refresh(self.full)

    @property
    def full(self) -> PixelBox:
        return PixelBox.full(*self._map.shape)

    @property
    def mask(self) -> np.ndarray:
        """The current mask (read it, do not write it)."""
        return self._mask

    @property
    def ramp(self) -> Ramp:
        return self._ramp

    @property
    def inverted(self) -> bool:
        return self._inverted

    @property
    def painted(self) -> bool:
        """True when any stroke is on the mask (clear takes them off)."""
        return bool(self._coverage.any())

    @property
    def can_undo(self) -> bool:
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        return self._history.can_redo

    @property
    def stroking(self) -> bool:
        return self._stroke is not None

    def adopt_strokes(self, other: MaskEditor) -> bool:
        """Take over ``other``'s strokes and inversion (a re-run of the same image at the same size: the user's
        painting stays); False, and nothing taken, when the sizes differ. Undo history starts afresh."""
        other.end_stroke()
        if other._map.shape != self._map.shape:
            return False
        self._painted[...] = other._painted
        self._coverage[...] = other._coverage
        self._inverted = other._inverted
        self.refresh(self.full)
        return True

    def set_ramp(self, ramp: Ramp) -> None:
        """Use a new threshold and softness; the mask is stale until ``refresh`` covers it."""
        self._ramp = ramp

    def refresh(self, box: PixelBox) -> PixelBox:
        """Recompute the mask inside ``box`` (clipped) from the threshold mask and the strokes; returns the box."""
        box = box.clipped(*self._map.shape)
        columns = slice(box.left, box.right)
        # Row bands keep the temporaries in cache: about three times faster than whole-image operations.
        band = max(1, _BAND_SAMPLES // max(1, box.width))
        for top in range(box.top, box.bottom, band):
            rows = slice(top, min(top + band, box.bottom))
            base = mask_from_map(self._map[rows, columns], self._ramp.threshold, self._ramp.softness)
            if self._inverted:
                np.subtract(1.0, base, out=base)
            coverage = self._coverage[rows, columns]
            if coverage.any():
                base -= base * coverage
                base += self._painted[rows, columns]
                np.clip(base, 0.0, 1.0, out=base)
            self._mask[rows, columns] = base
        return box

    # Strokes -------------------------------------------------------------------------------------------------

    def begin_stroke(self, x: float, y: float, brush: Brush) -> PixelBox:
        """Start a stroke with a dab at (x, y) (output pixels); returns the changed box."""
        if self._stroke is not None:
            self.end_stroke()
        height, width = self._map.shape
        if self._before is None or self._stroke_coverage is None:
            self._before = (np.empty_like(self._painted), np.empty_like(self._coverage))
            self._stroke_coverage = np.zeros_like(self._coverage)
        tiles = (-(-height // TILE), -(-width // TILE))
        self._stroke = _StrokeInProgress(brush, (x, y), np.zeros(tiles, bool), PixelBox(0, 0, 0, 0))
        return self._paint_segment((x, y), (x, y))

    def extend_stroke(self, x: float, y: float) -> PixelBox:
        """Drag the stroke on to (x, y); returns the changed box (empty when nothing changed)."""
        if self._stroke is None:
            raise RuntimeError("extend_stroke before begin_stroke")
        start = self._stroke.last
        self._stroke.last = (x, y)
        return self._paint_segment(start, (x, y))

    def end_stroke(self) -> None:
        """Finish the stroke: it becomes one undo step."""
        stroke, self._stroke = self._stroke, None
        if stroke is None or self._before is None or self._stroke_coverage is None:
            return
        painted_before, coverage_before = self._before
        saved: list[tuple[PixelBox, np.ndarray, np.ndarray]] = []
        for row, column in zip(*np.nonzero(stroke.touched), strict=True):
            tile = self._tile_box(int(row), int(column))
            area = tile.slices()
            saved.append((tile, painted_before[area].copy(), coverage_before[area].copy()))
            self._stroke_coverage[area] = 0.0
        if saved:
            self._history.push(TileEdit(saved))

    def _paint_segment(self, start: tuple[float, float], end: tuple[float, float]) -> PixelBox:
        stroke = self._stroke
        assert stroke is not None and self._before is not None and self._stroke_coverage is not None
        brush = stroke.brush
        height, width = self._map.shape
        segment = Stroke((start, end), brush.radius, EditMode.KEEP, brush.hardness, brush.opacity)
        box, coverage = edit_coverage(segment, height, width)
        if box.is_empty:
            return box
        self._save_tiles(box, stroke)
        area = box.slices()
        reach = self._stroke_coverage[area]
        np.maximum(reach, coverage, out=reach)
        painted_before, coverage_before = (array[area] for array in self._before)
        keep = 1.0 - reach
        # From the state before the stroke, never from the last segment's result: a stroke does not build up.
        np.multiply(painted_before, keep, out=self._painted[area])
        np.multiply(coverage_before, keep, out=self._coverage[area])
        if brush.mode is not BrushMode.ERASE:
            self._coverage[area] += reach
            if brush.mode is BrushMode.KEEP:
                self._painted[area] += reach
        stroke.box = stroke.box.union(box) if not stroke.box.is_empty else box
        return self.refresh(box)

    def _save_tiles(self, box: PixelBox, stroke: _StrokeInProgress) -> None:
        assert self._before is not None
        first_row, last_row = box.top // TILE, (box.bottom - 1) // TILE
        first_column, last_column = box.left // TILE, (box.right - 1) // TILE
        for row in range(first_row, last_row + 1):
            for column in range(first_column, last_column + 1):
                if stroke.touched[row, column]:
                    continue
                stroke.touched[row, column] = True
                area = self._tile_box(row, column).slices()
                self._before[0][area] = self._painted[area]
                self._before[1][area] = self._coverage[area]

    def _tile_box(self, row: int, column: int) -> PixelBox:
        height, width = self._map.shape
        return PixelBox(column * TILE, row * TILE, min(width, (column + 1) * TILE), min(height, (row + 1) * TILE))

    # Whole-mask edits ----------------------------------------------------------------------------------------

    def invert(self) -> PixelBox:
        """Swap kept and removed detail everywhere (strokes keep their meaning: a "keep" stroke still keeps)."""
        self.end_stroke()
        self._history.push(_INVERT)
        return self._invert()

    def _invert(self) -> PixelBox:
        self._inverted = not self._inverted
        # painted := coverage − painted turns every stroke's target t into 1 − t: the mask becomes 1 − mask.
        np.subtract(self._coverage, self._painted, out=self._painted)
        return self.refresh(self.full)

    def clear(self) -> PixelBox:
        """Take every stroke off (back to the threshold mask); an empty box when there were none."""
        self.end_stroke()
        if not self.painted:
            return PixelBox(0, 0, 0, 0)
        self._history.push(TileEdit([(self.full, self._painted.copy(), self._coverage.copy())]))
        self._painted.fill(0.0)
        self._coverage.fill(0.0)
        return self.refresh(self.full)

    def undo(self) -> PixelBox:
        """Undo the last step; returns the changed box (empty when there is nothing to undo)."""
        self.end_stroke()
        return self._apply(self._history.undo())

    def redo(self) -> PixelBox:
        self.end_stroke()
        return self._apply(self._history.redo())

    def _apply(self, step: TileEdit | str | None) -> PixelBox:
        if step is None:
            return PixelBox(0, 0, 0, 0)
        if step == _INVERT:
            return self._invert()
        assert isinstance(step, TileEdit)
        changed = step.swap(self._painted, self._coverage)
        return self.refresh(changed)


_INVERT = "invert"
