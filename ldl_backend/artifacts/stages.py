"""The progress of one ``upscale_with_layers`` job: its four stages and what each weighs, planned before any work.

The unit is one network pass over one tile. ``detail`` is the generator's tiles; ``reference`` is, for ``tta:k``,
the k − 1 transforms of every tile, counted pass by pass (a ``model:NAME`` reference counts its own tiles);
``map``, ``blend`` and a ``lanczos`` reference are whole-image steps weighed in the passes of this model they cost
about as much as (a fraction of one pass for RRDBNet, a few for the compact model). So ``done``/``total`` is the
share of the whole job, and the ETA the whole job's measured rate.
"""

from __future__ import annotations

from ldl_backend.engine.pipeline import tile_steps
from ldl_backend.engine.progress import Progress, ProgressCallback, Stage, StagedProgress
from ldl_backend.engine.upscale import PreparedEngine
from ldl_backend.imageio import ImageData
from ldl_client.options import ReferenceKind, ReferenceSource

# The map's weight, in passes over the image, depends on the model: on two CPU cores (bf16) the map of a 256×320
# input (1.3 MP out) took 0.74 s, 2.2 passes of realesr-animevideov3 (0.34 s each) or 0.1 pass of RRDBNet x4plus
# (7.6 s). A pass costs about in proportion to the network's weights per output pixel (x4plus 1.04 M, the compact
# model 38 k): the map weighs MAP_WORK / that many passes, within MAP_PASSES_RANGE (1 pass where it is unknown).
MAP_WORK = 100_000
MAP_PASSES_RANGE = (0.05, 4.0)
# The blend and a Lanczos reference each cost about a quarter of the map.
BLEND_SHARE_OF_MAP = 0.25
# Reported progress moves in twentieths of a unit: a whole image is one tile, and the network reports its blocks.
STEPS_PER_UNIT = 20


def map_passes(engine: PreparedEngine) -> float:
    """The map's weight in passes of ``engine``'s network over the image (see ``MAP_WORK``)."""
    if not engine.work_per_output_pixel:
        return 1.0
    low, high = MAP_PASSES_RANGE
    return min(high, max(low, MAP_WORK / engine.work_per_output_pixel))


class LayerStages:
    """The ``StagedProgress`` of one job, with the callbacks each stage's work reports through.

    Stage labels: ``detail`` (``detail alpha`` for the alpha plane), ``reference i/k`` for transform i of a
    ``tta:k`` reference (with ``, tile t/n`` when the image has several tiles; ``reference alpha`` for its alpha
    plane), ``reference`` for the other sources, then ``map`` and ``blend``.
    """

    def __init__(
        self,
        image: ImageData,
        engine: PreparedEngine,
        source: ReferenceSource,
        reference_engine: PreparedEngine | None,
        callback: ProgressCallback | None,
    ) -> None:
        detail = tile_steps(image, engine.runner, engine.settings)
        planes = 2 if image.alpha is not None else 1
        self._source = source
        self._tiles = detail // planes  # of one plane
        self._alpha_tiles = self._tiles if image.alpha is not None else 0
        self._passes = source.tta_count - 1  # TTA transforms besides the identity (the detail pass)
        map_units = self._tiles * map_passes(engine)
        light = map_units * BLEND_SHARE_OF_MAP
        reference: float
        if source.kind is ReferenceKind.TTA:
            reference = self._alpha_tiles + self._tiles * self._passes
        elif source.kind is ReferenceKind.MODEL and reference_engine is not None:
            reference = tile_steps(image, reference_engine.runner, reference_engine.settings)
        else:
            reference = light
        self.progress = StagedProgress(
            [
                Stage("detail", detail),
                Stage("reference", reference),
                Stage("map", map_units),
                Stage("blend", light),
            ],
            callback,
            steps_per_unit=STEPS_PER_UNIT,
        )
        self._colour_tiles_done = 0
        self._pass_in_tile = 0
        self._label = "reference"

    def detail(self) -> ProgressCallback:
        return self.progress.tiles("detail", lambda plane: "detail" if plane == "colour" else f"detail {plane}")

    def reference(self) -> ProgressCallback:
        """For the reference's tile count; with TTA, ``tta_pass`` moves it within each tile."""
        if self._source.kind is not ReferenceKind.TTA:
            return self.progress.tiles("reference")

        def report(update: Progress) -> None:
            if update.stage == "alpha":
                self.progress.advance("reference", update.done, "reference alpha")
                return
            self._colour_tiles_done = update.done - self._alpha_tiles
            self._pass_in_tile = 0
            self.progress.advance("reference", self._reference_done(), self._label)

        return report

    def tta_pass(self, index: int) -> None:
        """``TtaRunner``'s ``on_pass``: transform ``index`` (1 to k − 1) of the current tile is done. A tile split
        after running out of memory repeats its transforms per piece; the count within the tile never goes back."""
        self._pass_in_tile = max(self._pass_in_tile, index)
        self._label = f"reference {index + 1}/{self._source.tta_count}"
        if self._tiles > 1:
            self._label += f", tile {min(self._colour_tiles_done + 1, self._tiles)}/{self._tiles}"
        self.progress.advance("reference", self._reference_done(), self._label)

    def _reference_done(self) -> int:
        return self._alpha_tiles + self._colour_tiles_done * self._passes + self._pass_in_tile
