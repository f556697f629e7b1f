"""The progress of a real ``upscale_with_layers`` job (the tiny compact model): one honest count over detail,
reference passes, map and blend, so a ``tta:8`` job never reads finished while its reference is still running."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ldl_backend.artifacts import ArtifactOptions, ReferenceSource, upscale_with_layers
from ldl_backend.artifacts.stages import BLEND_SHARE_OF_MAP, MAP_PASSES_RANGE, map_passes
from ldl_backend.artifacts.stages import STEPS_PER_UNIT as STEPS
from ldl_backend.engine.device import Precision
from ldl_backend.engine.progress import Progress
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.loading import LoadedModel

# The tiny test model's weights per output pixel are few: its map weighs the most passes the range allows.
MAP = MAP_PASSES_RANGE[1]
BLEND = MAP * BLEND_SHARE_OF_MAP


def image(alpha: bool = False) -> ImageData:
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    return ImageData(colour, rng.integers(0, 256, (24, 40), dtype=np.uint8) if alpha else None)


def run(model: LoadedModel, reference: str, source: ImageData, tile: int | None = None) -> list[Progress]:
    engine = prepare_engine(
        model, EngineOptions(precision=Precision.FP32, tile=tile, overlap=None if tile is None else 4)
    )
    seen: list[Progress] = []
    upscale_with_layers(source, engine, ArtifactOptions(ReferenceSource.parse(reference)), progress=seen.append)
    return seen


def check_honest(seen: list[Progress]) -> None:
    """One total; the fraction never goes back; done == total only at the very end (after the blend)."""
    assert len({p.total for p in seen}) == 1
    dones = [p.done for p in seen]
    assert dones == sorted(dones)
    assert seen[-1].done == seen[-1].total and seen[-1].stage == "blend"
    assert all(p.done < p.total for p in seen[:-1])


def test_a_one_tile_tta8_job_counts_every_transform(compact_model: LoadedModel) -> None:
    seen = run(compact_model, "tta:8", image())
    check_honest(seen)
    # 1 detail tile + 7 reference passes + the map (MAP passes) + the blend (a quarter of the map).
    assert seen[0].total == (1 + 7 + MAP + BLEND) * STEPS and (seen[0].done, seen[0].stage) == (0, "detail")
    reference = [p for p in seen if p.stage.startswith("reference ")]
    assert [p.stage for p in reference] == [f"reference {i}/8" for i in range(2, 9)]
    assert [p.done for p in reference] == [i * STEPS for i in range(2, 9)]
    # Before the last reference pass ends, the bar reads at most 70 % and the ETA is a real, positive number.
    for p in reference[:-1]:
        assert p.fraction <= 0.7 and p.remaining is not None and p.remaining > 0
    stages = [p.stage for p in seen]
    assert stages.index("map") > stages.index("reference 8/8") and stages.index("blend") > stages.index("map")


def test_several_tiles_count_each_transform_of_each_tile(compact_model: LoadedModel) -> None:
    seen = run(compact_model, "tta:4", image(), tile=24)
    check_honest(seen)
    reference = [p for p in seen if p.stage.startswith("reference ")]
    tiles = int(reference[0].stage.rsplit("/", 1)[1])
    assert tiles > 1
    # tiles × 3 passes, each reported once with its transform and tile.
    assert len(reference) == tiles * 3 and reference[0].stage == f"reference 2/4, tile 1/{tiles}"
    assert reference[-1].stage == f"reference 4/4, tile {tiles}/{tiles}"
    detail = [p for p in seen if p.stage == "detail"]
    assert seen[0].total == tiles * (1 + 3 + MAP + BLEND) * STEPS and detail[-1].done == tiles * STEPS


def test_alpha_planes_count_too(compact_model: LoadedModel) -> None:
    seen = run(compact_model, "tta:2", image(alpha=True))
    check_honest(seen)
    assert {"detail alpha", "detail", "reference alpha", "reference 2/2", "map", "blend"} <= {p.stage for p in seen}
    assert seen[0].total == (2 + (1 + 1) + MAP + BLEND) * STEPS


def test_lanczos_and_model_references(compact_model: LoadedModel) -> None:
    seen = run(compact_model, "lanczos", image())
    check_honest(seen)
    assert [p.stage for p in seen if p.stage.startswith("reference")] == ["reference"]
    assert seen[0].total == (1 + BLEND + MAP + BLEND) * STEPS  # Lanczos weighs as the blend
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32, tile=24, overlap=4))
    seen = []
    options = ArtifactOptions(ReferenceSource.parse("model:same"))
    upscale_with_layers(image(), engine, options, reference_engine=engine, progress=seen.append)
    check_honest(seen)
    tiles = [p.done for p in seen if p.stage == "detail"][-1] // STEPS
    # The reference model tiles like the detail model here.
    assert seen[0].total == tiles * (1 + 1 + MAP + BLEND) * STEPS


@pytest.mark.parametrize("reference", ["tta:8", "lanczos"])
def test_without_a_callback_nothing_changes(compact_model: LoadedModel, reference: str) -> None:
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    options = ArtifactOptions(ReferenceSource.parse(reference))
    quiet = upscale_with_layers(image(), engine, options)
    followed = upscale_with_layers(image(), engine, options, progress=lambda _: None)
    assert np.array_equal(quiet.blend.colour, followed.blend.colour)


def test_a_one_tile_detail_pass_moves_between_the_networks_blocks(compact_model: LoadedModel) -> None:
    # A whole image is one tile: without the network's block steps the bar would sit at 0 through the detail pass.
    seen = run(compact_model, "lanczos", image())
    check_honest(seen)
    inside = [p.done for p in seen if p.stage == "detail" and 0 < p.done < STEPS]
    assert len(set(inside)) >= 5, inside  # the tiny compact model has 9 body layers


def test_the_whole_image_steps_weigh_by_the_model(compact_model: LoadedModel) -> None:
    # The map of a 1.3 MP output took 0.1 pass of x4plus and 2.2 of the compact model: weights per output pixel
    # (x4plus 1.04 M, realesr-animevideov3 39 k) put them at 0.096 and 2.6 passes.
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    assert engine.work_per_output_pixel == sum(p.numel() for p in compact_model.network.parameters()) / 16
    heavy = replace(engine, work_per_output_pixel=1_043_624.0)
    light = replace(engine, work_per_output_pixel=38_839.0)
    assert map_passes(heavy) == pytest.approx(0.0958, abs=1e-4) and map_passes(light) == pytest.approx(2.575, abs=1e-3)
    assert map_passes(replace(engine, work_per_output_pixel=None)) == 1.0
    # With x4plus, the detail of a one-tile image is most of the job, so the bar reads most of it when it ends.
    seen: list[Progress] = []
    upscale_with_layers(image(), heavy, ArtifactOptions(ReferenceSource.parse("lanczos")), progress=seen.append)
    check_honest(seen)
    after_detail = next(p for p in seen if p.stage != "detail")
    assert after_detail.fraction > 0.8
