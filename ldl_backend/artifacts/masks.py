"""Masks that say, per pixel, how much generated detail to keep (1 = keep detail, 0 = use the reference).

A mask starts from the artifact map and a threshold (``mask_from_map``); the user's edits — brush strokes, rectangles
and host selections — are then applied in order (``combine_mask``). Coordinates are continuous output-pixel
coordinates: pixel (row i, column j) covers [j, j+1) × [i, i+1), so its centre is (j + 0.5, i + 0.5) and an integer
rectangle covers whole pixels exactly.

Every edit only touches its bounding box (``edit_bounds``), so a brush stroke costs the area it paints, not the
image; the blend can then be redone for that box alone (``Blender.reblend_region``).
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ldl_backend.artifacts.pixel_box import PixelBox
from ldl_backend.errors import BlendInputError


class EditMode(enum.Enum):
    """What an edit does to the mask where it covers it: KEEP pushes towards 1 (detail), REMOVE towards 0."""

    KEEP = "keep"
    REMOVE = "remove"


def _check_unit(name: str, value: float) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise BlendInputError(f"{name} must be between 0 and 1, not {value}", f"pass a {name} in [0, 1]")
    return float(value)


def _check_finite(name: str, value: float, *, minimum: float | None = None) -> float:
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = f" and at least {minimum}" if minimum is not None else ""
        raise BlendInputError(f"{name} must be a finite number{bound}, not {value}", f"check the {name} you pass")
    return float(value)


def _check_mode(mode: object) -> None:
    if not isinstance(mode, EditMode):
        raise BlendInputError(f"mode must be an EditMode, not {mode!r}", "use EditMode.KEEP or EditMode.REMOVE")


@dataclass(frozen=True)
class Stroke:
    """A round brush dragged along ``points`` ((x, y) in output pixels; one point is a single dab).

    ``radius`` (> 0) in pixels; ``hardness`` in [0, 1]: 1 = full coverage out to the radius with a one-pixel
    anti-aliased edge, 0 = coverage falls smoothly from the centre line to nothing half a pixel past the radius.
    ``opacity`` in [0, 1] scales the coverage. Overlapping parts of one stroke do not build up (the nearest part of
    the line decides). Long tablet strokes are simplified first, moving the line by at most 0.05 px.
    """

    points: tuple[tuple[float, float], ...]
    radius: float
    mode: EditMode
    hardness: float = 0.5
    opacity: float = 1.0

    def __post_init__(self) -> None:
        try:
            points = tuple((float(x), float(y)) for x, y in self.points)
        except (TypeError, ValueError) as e:
            raise BlendInputError(
                f"stroke points must be (x, y) pairs of numbers: {e}", "pass points like ((10.5, 20.0), (30.0, 40.5))"
            ) from e
        if not points:
            raise BlendInputError("a stroke needs at least one point", "drop empty strokes before combining")
        if not all(math.isfinite(x) and math.isfinite(y) for x, y in points):
            raise BlendInputError("stroke points must be finite numbers", "check the coordinates the host sent")
        object.__setattr__(self, "points", points)
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise BlendInputError(f"the brush radius must be positive, not {self.radius}", "use a radius above 0")
        _check_unit("hardness", self.hardness)
        _check_unit("opacity", self.opacity)
        _check_mode(self.mode)

    def bounds(self) -> PixelBox:
        """The pixels this stroke can change (before clipping to the image)."""
        reach = self.radius + 0.5
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return PixelBox(
            math.floor(min(xs) - reach),
            math.floor(min(ys) - reach),
            math.ceil(max(xs) + reach),
            math.ceil(max(ys) + reach),
        )


@dataclass(frozen=True)
class RectRegion:
    """The rectangle [x, x + width) × [y, y + height) in output pixels.

    ``feather`` (pixels, ≥ 0) softens the edges with a linear ramp of that width centred on each edge; with 0 the edge
    is anti-aliased by the pixels' area coverage, so an integer rectangle covers whole pixels exactly.
    """

    x: float
    y: float
    width: float
    height: float
    mode: EditMode
    feather: float = 0.0

    def __post_init__(self) -> None:
        _check_finite("x", self.x)
        _check_finite("y", self.y)
        _check_finite("width", self.width, minimum=0.0)
        _check_finite("height", self.height, minimum=0.0)
        _check_finite("feather", self.feather, minimum=0.0)
        _check_mode(self.mode)

    @property
    def ramp(self) -> float:
        # Below one pixel a ramp is the pixel's own area coverage: the anti-aliased hard edge.
        return max(self.feather, 1.0)

    def bounds(self) -> PixelBox:
        half = self.ramp / 2
        return PixelBox(
            math.floor(self.x - half),
            math.floor(self.y - half),
            math.ceil(self.x + self.width + half),
            math.ceil(self.y + self.height + half),
        )


@dataclass(frozen=True, eq=False)
class SelectionRegion:
    """A selection from the host (Krita, GIMP): an H×W coverage array, bool, uint8 (0–255), uint16 (0–65535) or float
    in [0, 1]. It is stored as a read-only float32 copy in ``coverage``.
    """

    coverage: np.ndarray = field(repr=False)
    mode: EditMode

    def __post_init__(self) -> None:
        selection = np.asarray(self.coverage)
        if selection.ndim != 2:
            raise BlendInputError(
                f"a selection must be an H×W array, not shape {selection.shape}",
                "pass one channel of the selection (drop the channel axis)",
            )
        if selection.dtype == np.bool_:
            coverage = selection.astype(np.float32)
        elif selection.dtype in (np.uint8, np.uint16):
            coverage = selection.astype(np.float32) / np.float32(np.iinfo(selection.dtype).max)
        elif np.issubdtype(selection.dtype, np.floating):
            coverage = _check_unit_array(selection, "selection").astype(np.float32)  # astype copies
        else:
            raise BlendInputError(
                f"a selection must be bool, uint8, uint16 or float, not {selection.dtype}",
                "convert it to float32 in [0, 1]",
            )
        coverage.setflags(write=False)
        object.__setattr__(self, "coverage", coverage)
        _check_mode(self.mode)

    def bounds(self) -> PixelBox:
        rows = np.flatnonzero(self.coverage.any(axis=1))
        if rows.size == 0:
            return PixelBox(0, 0, 0, 0)
        columns = np.flatnonzero(self.coverage.any(axis=0))
        return PixelBox(int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1)


MaskEdit = Stroke | RectRegion | SelectionRegion

# Stroke points closer than this (pixels) to the line through their neighbours change no coverage visibly.
_SIMPLIFY_TOLERANCE = 0.05
# A transition narrower than this is below float32's resolution of map values near 1: treat it as the hard step.
_HARD_STEP_BELOW = 1e-6


def _check_unit_array(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` unchanged if every value is in [0, 1]; else a ``BlendInputError`` saying what was wrong."""
    if values.size == 0:
        return values
    # min/max propagate NaN, so two reductions catch NaN and the range alike.
    low, high = float(np.min(values)), float(np.max(values))
    if math.isnan(low) or math.isnan(high):
        raise BlendInputError(f"the {name} contains NaN", f"fix what produced the {name}; NaN has no blend weight")
    if low < 0.0 or high > 1.0:
        raise BlendInputError(
            f"the {name} must lie in [0, 1], but its values run from {low} to {high}",
            f"clip the {name} with np.clip({name}, 0, 1) if that is what you mean",
        )
    return values


def check_mask(mask: np.ndarray, height: int, width: int, name: str = "mask") -> np.ndarray:
    """``mask`` as a C-contiguous float32 H×W array in [0, 1] (no copy when it already is one).

    Raises ``BlendInputError`` for a wrong shape, a dtype other than float or bool, NaN or values outside [0, 1]:
    a mask out of range would extrapolate past the layers, so it is refused rather than silently clipped.
    """
    mask = np.asarray(mask)
    if mask.shape != (height, width):
        raise BlendInputError(
            f"the {name} is {_shape_text(mask.shape)} but the image is {height}×{width}",
            f"build the {name} at the output size (from the artifact map of this upscale)",
        )
    if mask.dtype != np.bool_ and not np.issubdtype(mask.dtype, np.floating):
        raise BlendInputError(
            f"the {name} must be float in [0, 1] or bool, not {mask.dtype}",
            f"convert it, e.g. {name}.astype(np.float32) / 255 for an 8-bit mask",
        )
    mask = np.ascontiguousarray(mask, dtype=np.float32)
    return _check_unit_array(mask, name)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(side) for side in shape) if shape else "a scalar"


def mask_from_map(artifact_map: np.ndarray, threshold: float, softness: float = 0.1) -> np.ndarray:
    """The mask (float32 H×W in [0, 1], 1 = keep detail) for an H×W float artifact map (high = likely artifact).

    1 where the map is below ``threshold − softness/2``, 0 above ``threshold + softness/2``, a smoothstep between
    (0.5 at the threshold). ``softness`` 0 is a hard step, 1 where map ≤ threshold (so is a softness below 1e-6,
    finer than float32 resolves near 1). Both must be in [0, 1]. Map values outside [0, 1] simply fall on one side.
    Raises ``BlendInputError`` for a non-2-D or non-float map, NaN in it, or a threshold or softness out of range.
    """
    _check_unit("threshold", threshold)
    _check_unit("softness", softness)
    values = np.asarray(artifact_map)
    if values.ndim != 2:
        raise BlendInputError(
            f"the artifact map must be H×W, not {_shape_text(values.shape)}",
            "pass the single-channel map (squeeze any channel or batch axes)",
        )
    if not np.issubdtype(values.dtype, np.floating):
        raise BlendInputError(
            f"the artifact map must be float, not {values.dtype}", "convert it with .astype(np.float32) / 255 first"
        )
    if values.size and np.isnan(np.min(values)):
        raise BlendInputError("the artifact map contains NaN", "recompute the map; the upscale may have overflowed")
    if softness < _HARD_STEP_BELOW:
        return (values <= threshold).astype(np.float32)
    # u = how far below the top of the transition, in transition widths; mask = smoothstep(u), computed in place.
    u = np.multiply(values, np.float32(-1.0 / softness), dtype=np.float32)
    u += np.float32((threshold + softness / 2) / softness)
    np.clip(u, 0.0, 1.0, out=u)
    shape = np.multiply(u, np.float32(-2.0))
    shape += np.float32(3.0)
    u *= u
    u *= shape
    return u


def edit_bounds(edit: MaskEdit, height: int, width: int) -> PixelBox:
    """The part of an ``height`` × ``width`` mask that ``edit`` can change (empty if none): the box to re-blend."""
    return edit.bounds().clipped(height, width)


def _simplified(points: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    """``points`` without those that lie within _SIMPLIFY_TOLERANCE of the polyline through the rest
    (Ramer–Douglas–Peucker): a tablet sends a point every pixel or two, and every segment costs a pass."""
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    pending = [(0, len(points) - 1)]
    while pending:
        first, last = pending.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        farthest, worst = -1, _SIMPLIFY_TOLERANCE
        for index in range(first + 1, last):
            px, py = points[index][0] - ax, points[index][1] - ay
            # Distance to the chord's line, or to its start when the chord is a point (a stroke that came back).
            gap = abs(px * dy - py * dx) / length if length > 0 else math.hypot(px, py)
            if gap > worst:
                farthest, worst = index, gap
        if farthest >= 0:
            keep[farthest] = True
            pending += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def _stroke_coverage(stroke: Stroke, box: PixelBox) -> np.ndarray:
    # Coverage falls with the distance to the polyline, so the nearest segment decides: take the minimum squared
    # distance over segments, then apply the falloff once.
    outer = stroke.radius + 0.5
    inner = max(0.0, min(stroke.radius * stroke.hardness, stroke.radius - 0.5))
    nearest = np.full((box.height, box.width), np.float32(outer * outer))
    points = _simplified(stroke.points)
    segments = list(itertools.pairwise(points)) or [(points[0], points[0])]
    for (ax, ay), (bx, by) in segments:
        piece = PixelBox(
            math.floor(min(ax, bx) - outer),
            math.floor(min(ay, by) - outer),
            math.ceil(max(ax, bx) + outer),
            math.ceil(max(ay, by) + outer),
        ).intersection(box)
        if piece.is_empty:
            continue
        across = np.arange(piece.left, piece.right, dtype=np.float32)[None, :] + np.float32(0.5 - ax)
        down = np.arange(piece.top, piece.bottom, dtype=np.float32)[:, None] + np.float32(0.5 - ay)
        dx, dy = np.float32(bx - ax), np.float32(by - ay)
        length2 = dx * dx + dy * dy
        if length2 > 0:
            along = across * (dx / length2) + down * (dy / length2)
            np.clip(along, 0.0, 1.0, out=along)
            off_x = across - along * dx
            off_y = down - along * dy
            distance2 = off_x * off_x
            distance2 += off_y * off_y
        else:
            distance2 = across * across + down * down
        rows = slice(piece.top - box.top, piece.bottom - box.top)
        columns = slice(piece.left - box.left, piece.right - box.left)
        np.minimum(nearest[rows, columns], distance2, out=nearest[rows, columns])
    u = np.sqrt(nearest, out=nearest)
    u -= np.float32(outer)
    u *= np.float32(-1.0 / (outer - inner))
    np.clip(u, 0.0, 1.0, out=u)
    return u * u * (3.0 - 2.0 * u) * np.float32(stroke.opacity)


def _axis_coverage(start: float, stop: float, first: int, end: int, ramp: float) -> np.ndarray:
    # The overlap of [start, stop) with a window of width `ramp` centred on each pixel centre, as a fraction.
    centres = np.arange(first, end, dtype=np.float64) + 0.5
    overlap = np.minimum(centres + ramp / 2, stop) - np.maximum(centres - ramp / 2, start)
    return np.clip(overlap / ramp, 0.0, 1.0)


def _rect_coverage(rect: RectRegion, box: PixelBox) -> np.ndarray:
    across = _axis_coverage(rect.x, rect.x + rect.width, box.left, box.right, rect.ramp)
    down = _axis_coverage(rect.y, rect.y + rect.height, box.top, box.bottom, rect.ramp)
    return np.outer(down, across).astype(np.float32)


def edit_coverage(edit: MaskEdit, height: int, width: int) -> tuple[PixelBox, np.ndarray]:
    """Where ``edit`` covers an ``height`` × ``width`` mask: its clipped box and the float32 coverage in [0, 1] there
    (shape × opacity). Front ends that paint interactively combine these themselves (see ``combine_mask``)."""
    if isinstance(edit, SelectionRegion):
        if edit.coverage.shape != (height, width):
            raise BlendInputError(
                f"the selection is {_shape_text(edit.coverage.shape)} but the mask is {height}×{width}",
                "scale the selection to the output size before passing it",
            )
        box = edit.bounds()
        return box, edit.coverage[box.slices()]
    box = edit.bounds().clipped(height, width)
    if box.is_empty:
        return box, np.zeros((0, 0), np.float32)
    if isinstance(edit, Stroke):
        return box, _stroke_coverage(edit, box)
    return box, _rect_coverage(edit, box)


def combine_mask(base: np.ndarray, edits: Sequence[MaskEdit]) -> np.ndarray:
    """``base`` (H×W float in [0, 1]) with ``edits`` applied in order, as a new float32 H×W array in [0, 1].

    Where an edit covers a pixel with coverage c (its shape × opacity), KEEP moves the mask towards 1 and REMOVE
    towards 0 by that fraction (m + c·(1 − m), m·(1 − c)) — painting over, so order matters and full coverage
    gives exactly 1 or 0, while pixels an edit does not cover keep their exact value. Raises ``BlendInputError``
    for a bad base (see ``check_mask``) or a selection of the wrong size.
    """
    base = np.asarray(base)
    if base.ndim != 2:
        raise BlendInputError(
            f"the base mask must be H×W, not {_shape_text(base.shape)}", "pass the mask from mask_from_map"
        )
    height, width = base.shape
    mask = check_mask(base, height, width, "base mask")
    if np.may_share_memory(mask, base):
        mask = mask.copy()
    for edit in edits:
        box, coverage = edit_coverage(edit, height, width)
        if box.is_empty:
            continue
        region = mask[box.slices()]
        if edit.mode is EditMode.KEEP:
            region += coverage * (1.0 - region)
        else:
            region *= 1.0 - coverage
        np.clip(region, 0.0, 1.0, out=region)
    return mask
