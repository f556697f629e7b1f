"""The automatic tile plan: the tile counts along each axis (and so the tile sizes) with the least estimated time,
overlap included, among the plans whose tiles fit the memory budget.

The even split under a fixed side cap was blind to cost: a 384×384 photo under a 320 cap became 2×2 tiles of 232
pixels, computing 1.46× its area, although the whole image fits in memory and runs in one pass. Here the tiles
need not be square, the count is chosen per axis, and a tile's estimated time is its area times a per-pixel rate
that grows where a large tile falls out of the CPU's caches (measured per architecture and precision), plus a
fixed cost per tile.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ldl_backend.engine.tiling import AxisTile, TilePlan, plan_axis


@dataclass(frozen=True)
class TileCost:
    """Relative time of one tile of ``area`` input pixels: ``area × rate(area) + per_tile``.

    ``rates``: ``(area, rate)`` points at rising areas; the time per pixel is interpolated linearly in area between
    them and flat beyond either end (empty: a flat rate, as on a GPU). On the CPU the rate grows with the tile as its
    feature maps fall out of the caches, then levels off once the pass streams from memory. ``per_tile``: the
    fixed cost of a tile (cutting, converting, one call into the runtime, the convolutions' borders), in pixels of
    work at rate 1."""

    rates: tuple[tuple[int, float], ...] = ()
    per_tile: float = 0.0

    def __post_init__(self) -> None:
        areas = [area for area, _ in self.rates]
        if any(area < 1 for area in areas) or areas != sorted(set(areas)):
            raise ValueError(f"rate points need rising areas of at least 1 pixel, not {areas}")
        if any(not rate > 0 for _, rate in self.rates):
            raise ValueError(f"rates must be positive, not {[rate for _, rate in self.rates]}")
        if self.per_tile < 0:
            raise ValueError(f"per_tile must be >= 0, not {self.per_tile}")

    def rate(self, area: int) -> float:
        """Time per pixel of a tile of ``area`` pixels, relative to the curve's unit."""
        if not self.rates:
            return 1.0
        below = self.rates[0]
        if area <= below[0]:
            return below[1]
        for above in self.rates[1:]:
            if area <= above[0]:
                share = (area - below[0]) / (above[0] - below[0])
                return below[1] + share * (above[1] - below[1])
            below = above
        return below[1]

    def of(self, area: int) -> float:
        return area * self.rate(area) + self.per_tile


@dataclass(frozen=True)
class TileBudget:
    """What the automatic plan must respect: ``max_pixels`` input pixels per tile (the activations that fit the
    memory budget), ``max_side`` pixels per side (progress granularity), and the cost of a tile.

    ``whole_pixels``: an image of at most this many (padded) pixels may also run as one tile whatever
    ``max_pixels`` and ``max_side`` say: its whole pass fits the memory the machine has free. It then does unless
    tiles are estimated faster (where the rate grows with the area more than the overlap costs); a 512² photo split
    2×1 took 13% longer than whole."""

    max_pixels: int
    max_side: int
    cost: TileCost = TileCost()
    whole_pixels: int = 0

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.max_side < 1:
            raise ValueError("a tile budget needs at least one pixel")
        if self.whole_pixels < 0:
            raise ValueError(f"whole_pixels must be >= 0, not {self.whole_pixels}")


@dataclass(frozen=True)
class PlannedTiles:
    """The chosen plan, its estimated cost (pixels of work) and the area it computes relative to the image's."""

    plan: TilePlan
    cost: float
    area_factor: float

    def describe(self) -> str:
        """For the user: ``2×1 tiles of 464×232 px, overlap 80, computes 1.21× the image``."""
        tile_height, tile_width = self.plan.tile_shape
        rows, columns = len(self.plan.rows), len(self.plan.columns)
        if rows * columns == 1:
            return f"one tile of {tile_width}×{tile_height} px (untiled)"
        return f"{columns}×{rows} tiles of {tile_width}×{tile_height} px, computing {self.area_factor:.2f}× the image"


@functools.lru_cache(maxsize=64)  # every plane of a job (colour, alpha, each TTA pass) asks again
def plan_tiles(height: int, width: int, *, overlap: int, blend: int, multiple: int, budget: TileBudget) -> PlannedTiles:
    """The cheapest plan whose tiles fit ``budget``, the whole image among them where it fits
    ``budget.whole_pixels`` (on a tie the whole image: no seams). Raises ValueError when no tile that holds the
    overlap fits."""
    padded_height, padded_width = (-(-length // multiple) * multiple for length in (height, width))
    best: PlannedTiles | None = None
    if padded_height * padded_width <= budget.whole_pixels:
        whole = TilePlan(
            height,
            width,
            plan_axis(height, padded_height, overlap, blend, multiple),
            plan_axis(width, padded_width, overlap, blend, multiple),
        )
        best = PlannedTiles(whole, budget.cost.of(padded_height * padded_width), 1.0)
    rows = _axis_plans(height, overlap, blend, multiple, budget.max_side)
    columns = _axis_plans(width, overlap, blend, multiple, budget.max_side)
    for row_plan in rows:
        row_size = row_plan[0].size
        for column_plan in columns:
            column_size = column_plan[0].size
            if row_size * column_size > budget.max_pixels:
                continue
            tiles = len(row_plan) * len(column_plan)
            cost = tiles * budget.cost.of(row_size * column_size)
            if best is None or cost < best.cost:
                plan = TilePlan(height, width, row_plan, column_plan)
                computed = tiles * row_size * column_size
                best = PlannedTiles(plan, cost, computed / (height * width))
    if best is None:
        raise ValueError(
            f"no tile holding the {overlap}-pixel overlap fits {budget.max_pixels} pixels for a {width}×{height} image"
        )
    return best


def _axis_plans(length: int, overlap: int, blend: int, multiple: int, max_side: int) -> list[tuple[AxisTile, ...]]:
    """Every distinct way to cover the axis with 1, 2, 3… equal tiles, each of the smallest size for its count.
    Counts stop where a tile would hold less than one overlap of new pixels: more tiles than that only add overlap
    (a memory budget that needs such small tiles falls back to square ones, see ``TiledUpscaler.plan``)."""
    padded = -(-length // multiple) * multiple
    smallest = overlap + multiple + 1
    plans: dict[int, tuple[AxisTile, ...]] = {}
    for count in range(1, padded // max(1, overlap) + 2):
        size = -(-(padded + (count - 1) * overlap) // count)
        size = -(-size // multiple) * multiple
        if count > 1 and size < smallest:
            break
        if size > max_side:
            continue
        try:
            plan = plan_axis(length, size, overlap, blend, multiple)
        except ValueError:
            break
        plans.setdefault(len(plan), plan)
    return list(plans.values())
