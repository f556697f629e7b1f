"""Run a tile runner over a whole plane, tile by tile, with seam blending and out-of-memory recovery."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, replace

import numpy as np

from ldl_backend.engine.assembly import Finalize, TileAssembler
from ldl_backend.engine.oom import is_out_of_memory
from ldl_backend.engine.progress import ProgressTracker
from ldl_backend.engine.runners import DIRECT_DTYPES, DirectRunner, SteppedRunner, TileRunner
from ldl_backend.engine.tile_planner import PlannedTiles, TileBudget, plan_tiles
from ldl_backend.engine.tiling import TilePlan
from ldl_backend.errors import LdlError
from ldl_backend.imageio.image import dtype_max


class OutOfMemoryError(LdlError):
    code = "out_of_memory"


@dataclass(frozen=True)
class TileSettings:
    """``tile``: largest tile side in input pixels; ``fixed``: the user chose it, so never shrink it.
    ``overlap``: input pixels shared by neighbouring tiles; ``blend``: width of the smooth seam inside it.
    ``budget``: when set (and the tile is not fixed), the plan is the cheapest one within it (``plan_tiles``),
    its tiles at most ``tile`` pixels a side; without it, equal square-capped tiles of at most ``tile``."""

    tile: int
    overlap: int
    blend: int = 16
    multiple: int = 1
    fixed: bool = False
    min_tile: int = 32
    budget: TileBudget | None = None

    def __post_init__(self) -> None:
        if self.overlap < 0 or self.blend < 0:
            raise ValueError("overlap and blend must be >= 0")
        if self.tile <= self.overlap:
            raise ValueError(f"tile size {self.tile} must be larger than the overlap {self.overlap}")


class TiledUpscaler:
    """Upscales planes (H×W×C arrays of any supported dtype) through one runner.

    Tiles are cut from the source with reflect padding and converted to float32 one at a time, so the source is
    never copied whole. After an out-of-memory error the failed tile is split into smaller tiles and the smaller
    size is kept for the rest of the job (unless the tile size was fixed by the user).
    """

    def __init__(self, runner: TileRunner, settings: TileSettings, tracker: ProgressTracker) -> None:
        self._runner = runner
        self._settings = settings
        self._tracker = tracker
        self.tile = settings.tile
        self._shrunk = False  # after an out-of-memory error: square tiles of ``self.tile``, budget or not

    def plan(self, height: int, width: int) -> TilePlan:
        planned = self.planned(height, width)
        if planned is not None:
            return planned.plan
        s = self._settings
        side = self.tile
        if s.budget is not None and not s.fixed and not self._shrunk:
            # A budget too small for tiles twice the overlap: the largest square tiles within it.
            side = max(min(side, math.isqrt(s.budget.max_pixels)), s.overlap + 2 * s.multiple + 1)
        return TilePlan.build(height, width, side, s.overlap, s.blend, s.multiple)

    def describe(self, height: int, width: int) -> str:
        """The plan for an image of this size, for the user: tiles, their size, overlap and computed area."""
        planned = self.planned(height, width)
        if planned is None:
            plan = self.plan(height, width)
            rows, columns = plan.tile_shape
            area = plan.count * rows * columns / (height * width)
            planned = PlannedTiles(plan, 0.0, area)
        return f"{planned.describe()}, overlap {self._settings.overlap}"

    def planned(self, height: int, width: int) -> PlannedTiles | None:
        """The cost-aware plan, or None where the tiles are fixed (by the user, or by an earlier shrink)."""
        s = self._settings
        if s.budget is None or s.fixed or self._shrunk:
            return None
        budget = replace(s.budget, max_side=min(s.budget.max_side, self.tile))
        try:
            return plan_tiles(height, width, overlap=s.overlap, blend=s.blend, multiple=s.multiple, budget=budget)
        except ValueError:
            return None  # a budget below tiles twice the overlap: the capped square plan below copes

    def upscale(
        self,
        source: np.ndarray,
        output: np.ndarray,
        *,
        stage: str,
        premultiply: np.ndarray | None = None,
        finalize: Finalize | None = None,
        model_channels: int = 3,
    ) -> None:
        """Upscale ``source`` (H×W×C) into ``output`` ((H·s)×(W·s)×C, any supported dtype).

        ``premultiply``: an H×W alpha plane (same dtype as the source) the colour is multiplied by before the model.
        Gray sources (C = 1) are repeated to ``model_channels`` and averaged back.
        """
        height, width = source.shape[:2]
        plan = self.plan(height, width)
        scale_in = 1.0 / dtype_max(source.dtype)
        direct = premultiply is None and finalize is None and source.shape[2] == model_channels
        if plan.count == 1 and direct and self._upscale_whole(source, output, plan, stage, scale_in):
            return
        plan = self.plan(height, width)  # smaller after the whole image ran out of memory
        assembler = TileAssembler(plan, self._runner.scale, output, finalize)
        for row in plan.rows:
            for column in plan.columns:
                self._tracker.check()
                tile = _cut(source, row.start, row.end, column.start, column.end, scale_in)
                if premultiply is not None:
                    alpha = _cut(premultiply[..., None], row.start, row.end, column.start, column.end, scale_in)
                    tile *= alpha
                if tile.shape[2] != model_channels:
                    tile = np.repeat(tile, model_channels, axis=2)
                result = self._run(np.ascontiguousarray(tile.transpose(2, 0, 1)), stage, planned=True)
                upscaled = result.transpose(1, 2, 0)
                if source.shape[2] == 1 and model_channels != 1:
                    upscaled = upscaled.mean(axis=2, keepdims=True)
                assembler.add(upscaled)  # any strides: the assembler's weighting makes its own copy
                self._tracker.tile_done(stage)

    def _upscale_whole(
        self, source: np.ndarray, output: np.ndarray, plan: TilePlan, stage: str, scale_in: float
    ) -> bool:
        """A one-tile plan with nothing to blend, premultiply or finalize: the runner writes the output itself (no
        float copy of the output, no weighting). False where the runner or dtype cannot, or after running out of
        memory (the tile size is then shrunk, and the caller tiles)."""
        if not isinstance(self._runner, DirectRunner) or output.dtype not in DIRECT_DTYPES:
            return False
        self._tracker.check()
        rows, columns = plan.rows[0], plan.columns[0]
        tile = _cut(source, rows.start, rows.end, columns.start, columns.end, scale_in)
        batch = np.ascontiguousarray(tile.transpose(2, 0, 1))[None]
        del tile
        try:
            with self._steps(stage):
                self._runner.run_into(batch, output)
        except Exception as error:
            self._recover(error, max(batch.shape[2:]))
            return False
        self._tracker.tile_done(stage)
        return True

    def _run(self, tile: np.ndarray, stage: str, planned: bool = False) -> np.ndarray:
        """C×h×w float32 → C×(h·s)×(w·s), splitting the tile when the device runs out of memory. ``planned``: a
        tile of the plan, run as it is until a tile has run out of memory (a whole image may exceed ``self.tile``);
        pieces of a failed tile, and tiles after one failed, run when they fit the shrunk size."""
        height, width = tile.shape[1:]
        if (planned and not self._shrunk) or max(height, width) <= self.tile:
            try:
                return self._network(tile[None], stage)[0]
            except Exception as error:
                self._recover(error, max(height, width))
        # Split this tile with the (now smaller) tile size and blend its pieces like any other tiles.
        plan = self.plan(height, width)
        scale = self._runner.scale
        pieces = np.empty((height * scale, width * scale, tile.shape[0]), dtype=np.float32)
        assembler = TileAssembler(plan, scale, pieces)
        for row in plan.rows:
            for column in plan.columns:
                self._tracker.check()
                part = tile[:, row.start : row.end, column.start : column.end]
                assembler.add(self._run(np.ascontiguousarray(part), stage).transpose(1, 2, 0))
        return pieces.transpose(2, 0, 1)

    def _network(self, batch: np.ndarray, stage: str) -> np.ndarray:
        with self._steps(stage):
            return self._runner.run(batch)

    def _steps(self, stage: str) -> contextlib.AbstractContextManager[None]:
        """Progress and cancel between the network's blocks, where the runner offers them."""
        if isinstance(self._runner, SteppedRunner):
            return self._runner.block_steps(lambda fraction: self._tracker.within_tile(stage, fraction))
        return contextlib.nullcontext()

    def _recover(self, error: Exception, failed: int) -> None:
        """After a tile of side ``failed`` raised ``error``: re-raise anything but running out of memory; else free
        what the runtime cached and shrink the tile size (raising where it cannot shrink)."""
        if not is_out_of_memory(error):
            raise error
        self._runner.release_memory()
        self._shrink(failed, error)

    def _shrink(self, failed: int, error: BaseException) -> None:
        s = self._settings
        if s.fixed:
            raise OutOfMemoryError(
                f"out of memory with tile size {s.tile} on {self._runner.description}",
                "use a smaller --tile, or --tile auto to let the engine shrink it",
            ) from error
        smaller = max(s.multiple, (failed // 2) // s.multiple * s.multiple)
        if smaller < s.min_tile or smaller <= s.overlap:
            raise OutOfMemoryError(
                f"out of memory even with tiles of {failed} pixels on {self._runner.description}",
                "close other programs using the device, use --device cpu, or a smaller model",
            ) from error
        self.tile = smaller
        self._shrunk = True


def _cut(source: np.ndarray, top: int, bottom: int, left: int, right: int, scale_in: float) -> np.ndarray:
    """The region [top, bottom) × [left, right) as float32 in [0, 1], reflect-padded beyond the source."""
    height, width = source.shape[:2]
    region = source[top : min(bottom, height), left : min(right, width)].astype(np.float32)
    if source.dtype != np.float32 or scale_in != 1.0:
        region *= np.float32(scale_in)
    else:
        np.clip(region, 0.0, 1.0, out=region)
    pad_bottom, pad_right = bottom - min(bottom, height), right - min(right, width)
    if pad_bottom or pad_right:
        mode = "reflect" if pad_bottom < region.shape[0] and pad_right < region.shape[1] else "symmetric"
        region = np.pad(region, ((0, pad_bottom), (0, pad_right), (0, 0)), mode=mode)
    return region
