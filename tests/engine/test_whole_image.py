"""A whole image in one tile: the runner writes the output's pixels itself (no float copy of the output, a quarter of
the bytes back from a GPU), with exactly the values of the general path; sides beyond the automatic tile cap run
whole too; running out of memory falls back to tiles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.progress import ProgressTracker
from ldl_backend.engine.runners import TorchRunner
from ldl_backend.engine.tiled import TiledUpscaler, TileSettings
from ldl_backend.engine.upscale import EngineOptions, prepare_engine, run_untiled
from ldl_backend.models.loading import LoadedModel

CPU32 = ComputeTarget(torch.device("cpu"), Precision.FP32)


class FloatOnly:
    """The same network behind the plain ``run`` contract only: the general path (float tile, weights, rounding)."""

    def __init__(self, inner: TorchRunner) -> None:
        self.inner, self.scale, self.description = inner, inner.scale, "float only"

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.inner.run(batch)

    def release_memory(self) -> None:
        pass


def upscale(runner: object, source: np.ndarray, dtype: type, overlap: int) -> np.ndarray:
    settings = TileSettings(4096, overlap, 2)  # one tile
    output = np.empty((source.shape[0] * 4, source.shape[1] * 4, 3), dtype=dtype)
    TiledUpscaler(runner, settings, ProgressTracker(0)).upscale(source, output, stage="colour")  # type: ignore[arg-type]
    return output


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_the_direct_path_writes_exactly_what_the_general_path_writes(compact_model: LoadedModel, dtype: type) -> None:
    runner = TorchRunner(compact_model.network, compact_model.descriptor, CPU32)
    rng = np.random.default_rng(5)
    source = rng.integers(0, 256, (37, 29, 3), dtype=np.uint8)
    if dtype == np.float32:
        source = source.astype(np.float32) / 255
    direct = upscale(runner, source, dtype, overlap=4)
    general = upscale(FloatOnly(runner), source, dtype, overlap=4)
    np.testing.assert_array_equal(direct, general)
    # Half-way values round half to even in both (what the 8-bit conversion of the float path does).
    assert len(np.unique(direct)) > 100


def test_a_side_beyond_the_automatic_cap_runs_whole(compact_model: LoadedModel) -> None:
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    assert engine.settings.tile == 1024 and engine.describe_plan(1100, 20).startswith("one tile of 1100×20")
    image = np.random.default_rng(1).random((20, 1100, 3), dtype=np.float32)
    expected = run_untiled(compact_model, image, CPU32)
    assert isinstance(engine.runner, TorchRunner)
    for runner in (engine.runner, FloatOnly(engine.runner)):  # the direct path, and the general one
        output = np.empty((80, 4400, 3), dtype=np.float32)
        TiledUpscaler(runner, engine.settings, ProgressTracker(0)).upscale(image, output, stage="colour")
        np.testing.assert_allclose(output, expected, atol=1e-6)


def test_out_of_memory_on_the_whole_image_falls_back_to_tiles(compact_model: LoadedModel) -> None:
    inner = TorchRunner(compact_model.network, compact_model.descriptor, CPU32)

    class NoRoomForTheWhole(FloatOnly):
        def __init__(self) -> None:
            super().__init__(inner)
            self.whole_tried = False

        def run_into(self, batch: np.ndarray, out: np.ndarray) -> None:
            self.whole_tried = True
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    runner = NoRoomForTheWhole()
    image = np.random.default_rng(2).random((45, 61, 3), dtype=np.float32)
    overlap = 2 * compact_model.descriptor.receptive_field + 2
    upscaler = TiledUpscaler(runner, TileSettings(64, overlap, 2, min_tile=8), ProgressTracker(0))
    output = np.empty((180, 244, 3), dtype=np.float32)
    upscaler.upscale(image, output, stage="colour")
    assert runner.whole_tried and upscaler.tile < 61
    np.testing.assert_allclose(output, run_untiled(compact_model, image, CPU32), atol=1e-6)
