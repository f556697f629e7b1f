"""The automatic tile plan: the cheapest plan within the memory budget, checked against every square plan the old
planner could have made; whole images that fit are not split; non-square tiles reassemble like square ones."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompactConfig
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.memory import automatic_budget
from ldl_backend.engine.progress import ProgressTracker
from ldl_backend.engine.runners import ResizeRunner, TorchRunner
from ldl_backend.engine.tile_planner import TileBudget, TileCost, plan_tiles
from ldl_backend.engine.tiled import TiledUpscaler, TileSettings
from ldl_backend.engine.tiling import TilePlan
from ldl_backend.engine.upscale import run_untiled
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.loading import LoadedModel

# Full speed up to 384², then 5 % more per pixel for each further 384² of area (SwinIR's assumed curve).
CPU_COST = TileCost(rates=((384 * 384, 1.0), (4096 * 4096, 6.64)), per_tile=2_000)
X4PLUS = ModelDescriptor.from_config(RRDBNetConfig())
X4PLUS_CPU_BF16 = automatic_budget(X4PLUS, ComputeTarget(torch.device("cpu"), Precision.BF16), 16 << 30)
X4PLUS_CPU_FP32 = automatic_budget(X4PLUS, ComputeTarget(torch.device("cpu"), Precision.FP32), 8 << 30)


def cost_of(plan: TilePlan, cost: TileCost) -> float:
    height, width = plan.tile_shape
    return plan.count * cost.of(height * width)


def test_a_medium_photo_that_fits_in_memory_is_not_split() -> None:
    # The default model on the CPU in bf16: 384² was 2×2 tiles of 232 px (1.46× the area), now one pass.
    planned = plan_tiles(384, 384, overlap=80, blend=16, multiple=1, budget=X4PLUS_CPU_BF16)
    assert planned.plan.count == 1 and planned.area_factor == 1.0
    assert planned.describe() == "one tile of 384×384 px (untiled)"


def test_a_photo_whose_whole_pass_fits_a_quarter_of_free_memory_is_not_split() -> None:
    # 512² takes about 0.3 GB in bf16; split 2×1 within the tile budget it took 13% longer (benchmarks/tile_plan.py).
    assert X4PLUS_CPU_BF16.whole_pixels > 1024 * 1024
    for side in (512, 1024):
        assert plan_tiles(side, side, overlap=80, blend=16, multiple=1, budget=X4PLUS_CPU_BF16).plan.count == 1
    low_memory = automatic_budget(X4PLUS, ComputeTarget(torch.device("cpu"), Precision.BF16), 1 << 30)
    assert plan_tiles(512, 512, overlap=80, blend=16, multiple=1, budget=low_memory).plan.count > 1


def test_a_photo_beyond_the_memory_budget_gets_the_fewest_tiles_that_fit() -> None:
    within_tile_budget = replace(X4PLUS_CPU_BF16, whole_pixels=0, max_pixels=153_000)
    planned = plan_tiles(512, 512, overlap=80, blend=16, multiple=1, budget=within_tile_budget)
    assert planned.plan.count == 2  # 512² is 262k pixels
    assert planned.describe() == "2×1 tiles of 296×512 px, computing 1.16× the image"


def test_an_image_too_large_to_run_whole_is_tiled_within_the_tile_budget() -> None:
    side = math.isqrt(X4PLUS_CPU_BF16.whole_pixels) + 1
    planned = plan_tiles(side, side, overlap=80, blend=16, multiple=1, budget=X4PLUS_CPU_BF16)
    tile_height, tile_width = planned.plan.tile_shape
    assert planned.plan.count > 1 and tile_height * tile_width <= X4PLUS_CPU_BF16.max_pixels


def test_where_memory_allows_the_cache_slowdown_decides() -> None:
    roomy = TileBudget(max_pixels=2048 * 2048, max_side=1024, cost=CPU_COST)
    assert plan_tiles(512, 512, overlap=80, blend=16, multiple=1, budget=roomy).plan.count == 1
    steep = TileCost(rates=((384 * 384, 1.0), (4096 * 4096, 57.4)), per_tile=2_000)  # 50 % per further 384²
    slow = TileBudget(max_pixels=2048 * 2048, max_side=1024, cost=steep)
    assert plan_tiles(512, 512, overlap=80, blend=16, multiple=1, budget=slow).plan.count == 2
    # A whole image that fits the free memory is a candidate like any plan, not a rule: tiles win where they are
    # estimated faster, and a tie keeps the seamless whole.
    whole_fits = replace(slow, max_pixels=300 * 300, whole_pixels=2048 * 2048)
    assert plan_tiles(512, 512, overlap=80, blend=16, multiple=1, budget=whole_fits).plan.count == 4  # 296² tiles
    flat = replace(whole_fits, cost=TileCost())
    assert plan_tiles(512, 512, overlap=80, blend=16, multiple=1, budget=flat).plan.count == 1


def test_the_rate_is_linear_in_area_between_its_points_and_flat_beyond_them() -> None:
    cost = TileCost(rates=((100, 1.0), (300, 2.0), (400, 2.0)), per_tile=10)
    assert [cost.rate(area) for area in (1, 100, 150, 200, 300, 350, 400, 10**6)] == [1, 1, 1.25, 1.5, 2, 2, 2, 2]
    assert cost.of(200) == 200 * 1.5 + 10
    assert TileCost().rate(10**6) == 1.0


@pytest.mark.parametrize(
    ("rates", "per_tile", "message"),
    [
        (((100, 1.0), (100, 2.0)), 0, "rising areas"),
        (((200, 1.0), (100, 2.0)), 0, "rising areas"),
        (((0, 1.0),), 0, "rising areas"),
        (((100, 0.0),), 0, "positive"),
        (((100, float("nan")),), 0, "positive"),
        ((), -1, "per_tile"),
    ],
)
def test_rate_points_that_make_no_curve_are_refused(
    rates: tuple[tuple[int, float], ...], per_tile: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TileCost(rates=rates, per_tile=per_tile)


def test_the_default_model_in_fp32_runs_a_medium_photo_whole_and_tiles_a_large_one_widely() -> None:
    # Measured on the CPU (benchmarks/tile_cost.py): from 384² the rate barely grows, so a 768² photo computing
    # 1.22× its area in 2×2 tiles would cost more than its whole pass.
    assert plan_tiles(768, 768, overlap=80, blend=16, multiple=1, budget=X4PLUS_CPU_FP32).plan.count == 1
    # Beyond the whole-image share of 8 GiB free (about 894²), tiles as large as that share holds, not the 279² of
    # the fixed activation budget, which would compute 1.8× a 2048² image.
    assert X4PLUS_CPU_FP32.whole_pixels < 2048 * 2048 and X4PLUS_CPU_FP32.max_pixels == X4PLUS_CPU_FP32.whole_pixels
    planned = plan_tiles(2048, 2048, overlap=80, blend=16, multiple=1, budget=X4PLUS_CPU_FP32)
    assert planned.describe() == "3×3 tiles of 736×736 px, computing 1.16× the image"
    fixed_budget = replace(X4PLUS_CPU_FP32, max_pixels=279 * 279)
    assert plan_tiles(2048, 2048, overlap=80, blend=16, multiple=1, budget=fixed_budget).area_factor > 1.8
    # The compact model keeps the fixed budget: its 24 MP jobs peak near the output's size.
    compact = automatic_budget(
        ModelDescriptor.from_config(SRVGGNetCompactConfig()),
        ComputeTarget(torch.device("cpu"), Precision.FP32),
        8 << 30,
    )
    assert compact.max_pixels == (200 << 20) // (3 * 64 * 4 + 3 * 3 * 16 * 4)


@given(
    height=st.integers(1, 1500),
    width=st.integers(1, 1500),
    overlap=st.sampled_from([16, 52, 80]),
    multiple=st.sampled_from([1, 2, 4]),
    max_pixels=st.integers(200 * 200, 800 * 800),
)
@settings(max_examples=60, deadline=None)
def test_the_plan_fits_the_budget_and_beats_every_square_plan(
    height: int, width: int, overlap: int, multiple: int, max_pixels: int
) -> None:
    budget = TileBudget(max_pixels=max_pixels, max_side=1024, cost=CPU_COST)
    planned = plan_tiles(height, width, overlap=overlap, blend=16, multiple=multiple, budget=budget)
    plan = planned.plan
    tile_height, tile_width = plan.tile_shape
    assert tile_height * tile_width <= max_pixels and max(tile_height, tile_width) <= 1024
    assert plan.padded_shape == (-(-height // multiple) * multiple, -(-width // multiple) * multiple)
    assert planned.cost == pytest.approx(cost_of(plan, CPU_COST))
    for side in range(overlap + multiple + 1, 1025, 8):
        square = TilePlan.build(height, width, side, overlap, 16, multiple)
        rows, columns = square.tile_shape
        if rows * columns <= max_pixels:
            assert planned.cost <= cost_of(square, CPU_COST) + 1e-6, f"tile {side} is cheaper"


def test_a_flat_cost_never_splits_what_fits() -> None:
    gpu = TileBudget(max_pixels=4096 * 4096, max_side=1024, cost=TileCost(per_tile=30_000))
    assert plan_tiles(1024, 1000, overlap=80, blend=16, multiple=1, budget=gpu).plan.count == 1
    assert plan_tiles(1100, 900, overlap=80, blend=16, multiple=1, budget=gpu).plan.count == 2  # the side cap


def test_a_budget_below_tiles_twice_the_overlap_is_refused_by_the_planner() -> None:
    tiny = TileBudget(max_pixels=100 * 100, max_side=1024, cost=CPU_COST)
    with pytest.raises(ValueError, match="80-pixel overlap"):
        plan_tiles(500, 500, overlap=80, blend=16, multiple=1, budget=tiny)
    # The engine then falls back to the largest square tiles within the budget.
    upscaler = TiledUpscaler(ResizeRunner(2), TileSettings(1024, 80, 16, budget=tiny), ProgressTracker(0))
    assert upscaler.plan(500, 500).tile_shape == (100, 100)


@given(height=st.integers(8, 90), width=st.integers(8, 90), max_pixels=st.integers(50 * 50, 70 * 70))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # read-only
def test_planned_tiles_equal_the_untiled_result(
    compact_model: LoadedModel, height: int, width: int, max_pixels: int
) -> None:
    cpu = ComputeTarget(torch.device("cpu"), Precision.FP32)
    image = np.random.default_rng(height + 7 * width).random((height, width, 3), dtype=np.float32)
    whole = run_untiled(compact_model, image, cpu)
    overlap = 2 * compact_model.descriptor.receptive_field + 8
    runner = TorchRunner(compact_model.network, compact_model.descriptor, cpu)
    budget = TileBudget(max_pixels=max_pixels, max_side=1024, cost=CPU_COST)
    upscaler = TiledUpscaler(runner, TileSettings(1024, overlap, 8, budget=budget), ProgressTracker(0))
    output = np.empty((height * 4, width * 4, 3), dtype=np.float32)
    upscaler.upscale(image, output, stage="colour")
    # Measured: 1.2e-7 at most (float32 rounding in the blend), as for square tiles in test_tiling.py.
    np.testing.assert_allclose(output, whole, atol=1e-6)


def test_a_fixed_tile_ignores_the_budget() -> None:
    budget = TileBudget(max_pixels=1024 * 1024, max_side=1024, cost=CPU_COST)
    upscaler = TiledUpscaler(ResizeRunner(2), TileSettings(320, 80, 16, fixed=True, budget=budget), ProgressTracker(0))
    assert upscaler.plan(384, 384).count == 4
    assert upscaler.describe(384, 384) == "2×2 tiles of 232×232 px, computing 1.46× the image, overlap 80"
