"""Blend tile outputs straight into the preallocated output array, in raster order.

Only two bands of float32 are ever held besides the current tile: the horizontal carry (the blend zone between
the current tile and the next in its row) and the vertical band (the blend zone between this row of tiles and the
next, across the full width). Everything else is converted to the output dtype as soon as it is final, so peak
memory is the output array plus a few tiles, never a float32 copy of the output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ldl_backend.engine.tiling import TilePlan, axis_weights

# finalize(piece, top, left) -> piece: last touch on a final float32 region (e.g. un-premultiplying colour by the
# already upscaled alpha) before it is converted to the output dtype.
Finalize = Callable[[np.ndarray, int, int], np.ndarray]


def to_dtype(values: np.ndarray, dtype: np.dtype[np.generic]) -> np.ndarray:
    """float32 in [0, 1] → the output dtype, rounding to nearest for integer types. Works in place on ``values``
    (every caller hands over a temporary), so converting a tile costs no extra float copy."""
    if dtype == np.float32:
        return np.clip(values, 0.0, 1.0, out=values)
    top = np.float32(255.0 if dtype == np.uint8 else 65535.0)
    np.multiply(values, top, out=values)
    np.rint(values, out=values)
    np.clip(values, 0, top, out=values)
    return values.astype(dtype)


class TileAssembler:
    """Receives tile outputs in raster order (row by row, left to right) and writes final pixels to ``output``.

    ``output``: H·s×W·s×C array of the output dtype (the valid image; padding beyond it is dropped).
    """

    def __init__(self, plan: TilePlan, scale: int, output: np.ndarray, finalize: Finalize | None = None) -> None:
        self._plan = plan
        self._scale = scale
        self._output = output
        self._finalize = finalize
        self._channels = output.shape[2]
        self._row_weights = [axis_weights(tile, scale) for tile in plan.rows]
        self._column_weights = [axis_weights(tile, scale) for tile in plan.columns]
        self._next = (0, 0)
        self._carry: np.ndarray | None = None  # horizontal blend zone waiting for the next tile in the row
        self._band_above: np.ndarray | None = None  # vertical blend zone waiting for this row of tiles
        self._band_below: np.ndarray | None = None

    @property
    def expected(self) -> tuple[int, int]:
        """(row, column) of the tile ``add`` expects next."""
        return self._next

    def add(self, tile_output: np.ndarray) -> None:
        """Add the next tile's output: float32, (tile rows·s)×(tile columns·s)×C, un-weighted.

        The assembler takes ownership: it weights the array in place (a tile-sized copy per tile would add
        hundreds of MiB at peak for large tiles at ×4).
        """
        row, column = self._next
        plan, scale = self._plan, self._scale
        rows, columns = plan.rows[row], plan.columns[column]
        # Crop to the kept span and weight by the row and column ramps (separable partition of unity).
        y0, x0 = (rows.keep_start - rows.start) * scale, (columns.keep_start - columns.start) * scale
        kept = tile_output[
            y0 : y0 + (rows.keep_end - rows.keep_start) * scale,
            x0 : x0 + (columns.keep_end - columns.keep_start) * scale,
        ]
        weighted = kept
        weighted *= self._row_weights[row][:, None, None]
        weighted *= self._column_weights[column][None, :, None]
        # Horizontal: add the carry from the left neighbour; keep the right blend zone for the right neighbour.
        if self._carry is not None:
            weighted[:, : self._carry.shape[1]] += self._carry
        right_zone = (columns.keep_end - columns.full_end) * scale
        finished_width = weighted.shape[1] - right_zone
        self._carry = weighted[:, finished_width:].copy() if right_zone else None
        self._emit_columns(weighted[:, :finished_width], row, columns.keep_start * scale)
        if column + 1 < len(plan.columns):
            self._next = (row, column + 1)
        else:
            self._band_above, self._band_below = self._band_below, None
            self._next = (row + 1, 0)

    @property
    def finished(self) -> bool:
        return self._next[0] == len(self._plan.rows)

    def _emit_columns(self, piece: np.ndarray, row: int, left: int) -> None:
        """``piece`` is horizontally final: rows [keep_start·s, keep_end·s) of tile row ``row``."""
        rows, scale = self._plan.rows[row], self._scale
        top = rows.keep_start * scale
        top_zone = (rows.full_start - rows.keep_start) * scale
        bottom_zone = (rows.keep_end - rows.full_end) * scale
        width = piece.shape[1]
        if top_zone:
            if self._band_above is None:
                raise RuntimeError("tiles must be added in raster order")
            zone = piece[:top_zone] + self._band_above[:, left : left + width]
            self._write(zone, top, left)
        middle_end = piece.shape[0] - bottom_zone
        self._write(piece[top_zone:middle_end], top + top_zone, left)
        if bottom_zone:
            if self._band_below is None:
                padded_width = self._plan.columns[-1].end * scale
                self._band_below = np.zeros((bottom_zone, padded_width, self._channels), dtype=np.float32)
            self._band_below[:, left : left + width] = piece[middle_end:]

    def _write(self, piece: np.ndarray, top: int, left: int) -> None:
        height, width = self._output.shape[:2]
        piece = piece[: max(0, height - top), : max(0, width - left)]  # drop the padding beyond the image
        if piece.size == 0:
            return
        if self._finalize is not None:
            piece = self._finalize(piece, top, left)
        self._output[top : top + piece.shape[0], left : left + piece.shape[1]] = to_dtype(piece, self._output.dtype)
