"""The networks' share of a job's memory estimate follows the engine's plan: an image whose whole pass fits a quarter
of the free RAM runs whole (activations grow with its pixels, judged at bf16 as the worker may run it), a larger
one in the largest automatic CPU tiles."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ldl_backend import system_memory
from ldl_backend.engine.memory import CPU_TILE_BUDGET
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.server.budget import working_set
from ldl_client.options import Precision, SubmitOptions

GIB = 1 << 30


@pytest.fixture(autouse=True)
def eight_gib_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_memory, "available_memory", lambda: 8 * GIB)


def test_whole_images_grow_with_their_pixels_and_larger_ones_take_the_tile_budget() -> None:
    catalog, options = builtin_catalog(), SubmitOptions(model="realesrgan-x4plus")
    weights = working_set(options, catalog, pixels=0)
    small, double = (working_set(options, catalog, pixels) - weights for pixels in (500_000, 1_000_000))
    assert small > CPU_TILE_BUDGET and double == pytest.approx(2 * small, rel=1e-6)
    # 2 GiB (a quarter of 8) holds about 1.7 M pixels of bf16 activations: 4 M pixels are tiled, and RRDBNet's CPU
    # tiles may take that quarter (the compact model's, the fixed budget).
    for precision in (None, Precision.BF16):
        tiled = working_set(replace(options, precision=precision), catalog, 4_000_000) - weights
        assert tiled == pytest.approx(2 * GIB, rel=1e-5)
    # A server's job budget bounds them (``job_tile_memory``), never below the fixed budget.
    assert working_set(options, catalog, 4_000_000, 1 * GIB) - weights == pytest.approx(GIB, rel=1e-5)
    assert working_set(options, catalog, 4_000_000, 1) - weights == pytest.approx(CPU_TILE_BUDGET, rel=1e-5)
    compact = SubmitOptions(model="realesr-animevideov3")
    compact_weights = working_set(compact, catalog, pixels=0)
    assert working_set(compact, catalog, 40_000_000) - compact_weights == pytest.approx(CPU_TILE_BUDGET, rel=1e-5)


def test_a_fixed_tile_is_estimated_by_its_size_whatever_the_image() -> None:
    catalog = builtin_catalog()
    options = SubmitOptions(model="realesrgan-x4plus", tile=256)
    assert working_set(options, catalog, 100) == working_set(options, catalog, 10_000_000)
