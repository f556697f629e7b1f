"""The tile plan: pure geometry, no pixels.

Along each axis the image (padded up to the model's size multiple) is covered by equal tiles whose starts are
multiples of the size multiple and evenly spread, so no tile is thin. Consecutive tiles overlap by at least
``overlap`` input pixels; the seam between them is a smooth blend over ``blend`` pixels in the middle of the
overlap, so each side of the blend keeps ``(overlap - blend) / 2`` pixels of context from the tile edge.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class AxisTile:
    """One tile along one axis, in input pixels: it reads ``[start, end)`` and its output counts on
    ``[keep_start, keep_end)`` with weight 1 on ``[full_start, full_end)`` and a smooth ramp outside that."""

    start: int
    end: int
    keep_start: int
    keep_end: int
    full_start: int
    full_end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def _round_down(value: int, multiple: int) -> int:
    return value // multiple * multiple


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def plan_axis(length: int, tile: int, overlap: int, blend: int, multiple: int = 1) -> tuple[AxisTile, ...]:
    """Tiles covering ``[0, padded)`` where padded = ``length`` rounded up to ``multiple``.

    ``tile`` is the largest tile size (rounded down to ``multiple``); all tiles get the same size, the smallest
    that keeps the overlap. Raises ValueError when the tile cannot hold the overlap.
    """
    if length < 1:
        raise ValueError(f"cannot tile an axis of length {length}")
    padded = _round_up(length, multiple)
    tile = _round_down(tile, multiple)
    blend = min(blend, overlap)
    if tile >= padded:
        return (AxisTile(0, padded, 0, padded, 0, padded),)
    if tile - overlap < multiple:
        raise ValueError(f"tile size {tile} must exceed the overlap {overlap} by at least the size multiple {multiple}")
    size, starts = _spread(padded, tile, overlap, multiple)
    # Seam k lies in the middle of the overlap between tiles k and k+1; blend zones must not touch each other.
    centres = [(starts[k + 1] + starts[k] + size) // 2 for k in range(len(starts) - 1)]
    gaps = [b - a for a, b in itertools.pairwise(centres)]
    blend = min([blend, *gaps])
    edges = [(centre - blend // 2, centre - blend // 2 + blend) for centre in centres]
    tiles: list[AxisTile] = []
    for k, start in enumerate(starts):
        keep_start, full_start = edges[k - 1] if k > 0 else (0, 0)
        full_end, keep_end = edges[k] if k < len(edges) else (padded, padded)
        tiles.append(AxisTile(start, start + size, keep_start, keep_end, full_start, full_end))
    return tuple(tiles)


def _spread(padded: int, tile: int, overlap: int, multiple: int) -> tuple[int, list[int]]:
    """The smallest equal tile size and fewest tiles whose aligned, evenly spread starts keep the overlap."""
    count = math.ceil((padded - overlap) / (tile - overlap))
    # Termination: with tile - overlap >= multiple, once every start is a distinct multiple the overlap holds.
    while count <= padded // multiple + 1:
        smallest = _round_up(math.ceil((padded + (count - 1) * overlap) / count), multiple)
        for size in range(min(smallest, tile), tile + 1, multiple):
            starts = [_round_down(round(k * (padded - size) / (count - 1)), multiple) for k in range(count)]
            starts[-1] = padded - size
            if all(starts[k] + size - starts[k + 1] >= overlap for k in range(count - 1)):
                return size, starts
        count += 1
    raise ValueError(f"cannot tile {padded} pixels with tiles of {tile} overlapping by {overlap}")


def axis_weights(tile: AxisTile, scale: int) -> np.ndarray:
    """Weights over the tile's kept output span ``[keep_start·scale, keep_end·scale)``: 1 on the full span and a
    raised-cosine ramp across each blend zone. Neighbouring tiles' weights sum to exactly 1."""
    size = (tile.keep_end - tile.keep_start) * scale
    weights = np.ones(size, dtype=np.float32)
    rising = (tile.full_start - tile.keep_start) * scale
    if rising:
        weights[:rising] = _ramp(rising)
    falling = (tile.keep_end - tile.full_end) * scale
    if falling:
        weights[size - falling :] = 1.0 - _ramp(falling)
    return weights


def _ramp(size: int) -> np.ndarray:
    # Sampled at pixel centres; ramp(n)[i] + (1 - ramp(n))[i] == 1 exactly, and the curve is smooth at both ends.
    positions = (np.arange(size, dtype=np.float64) + 0.5) / size
    return (0.5 - 0.5 * np.cos(np.pi * positions)).astype(np.float32)


@dataclass(frozen=True)
class TilePlan:
    """Tiles over an image: the product of a row plan and a column plan."""

    height: int
    width: int
    rows: tuple[AxisTile, ...]
    columns: tuple[AxisTile, ...]

    @classmethod
    def build(cls, height: int, width: int, tile: int, overlap: int, blend: int, multiple: int = 1) -> TilePlan:
        return cls(
            height,
            width,
            plan_axis(height, tile, overlap, blend, multiple),
            plan_axis(width, tile, overlap, blend, multiple),
        )

    @property
    def count(self) -> int:
        return len(self.rows) * len(self.columns)

    @cached_property
    def padded_shape(self) -> tuple[int, int]:
        return self.rows[-1].end, self.columns[-1].end

    @property
    def tile_shape(self) -> tuple[int, int]:
        return self.rows[0].size, self.columns[0].size
