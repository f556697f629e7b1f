"""The engine on a real CUDA GPU: each precision against the CPU's fp32 result on a real photo with the default
model, and recovery from a real CUDA out-of-memory error (a per-process memory cap), with a clear error when the
user fixed the tile size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.engine.assembly import to_dtype
from ldl_backend.engine.device import ComputeTarget, Precision
from ldl_backend.engine.pipeline import upscale_image
from ldl_backend.engine.runners import TorchRunner
from ldl_backend.engine.tiled import OutOfMemoryError
from ldl_backend.engine.upscale import EngineOptions, prepare_engine, run_untiled
from ldl_backend.imageio.image import ImageData
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore

CPU32 = ComputeTarget(torch.device("cpu"), Precision.FP32)


@pytest.fixture(scope="module")
def x4plus(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    return ModelStore(tmp_path_factory.mktemp("models"), builtin_catalog()).load("realesrgan-x4plus")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(skimage_data.coffee()[120:216, 260:356])


@pytest.fixture(scope="module")
def cpu_reference(x4plus: LoadedModel, photo: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(run_untiled(x4plus, photo.astype(np.float32) / 255, CPU32), 0, 1) * 255)


@pytest.mark.parametrize(
    ("precision", "mean_levels", "p999_levels"), [("fp32", 0.1, 1.0), ("fp16", 0.5, 3.0), ("bf16", 1.0, 6.0)]
)
def test_each_precision_on_cuda_matches_the_cpu(
    precision: str,
    mean_levels: float,
    p999_levels: float,
    x4plus: LoadedModel,
    photo: np.ndarray,
    cpu_reference: np.ndarray,
) -> None:
    engine = prepare_engine(x4plus, EngineOptions(device="cuda", precision=Precision(precision)))
    assert engine.target.device.type == "cuda"
    result = upscale_image(ImageData(photo), engine.runner, engine.settings).colour.astype(np.float32)
    difference = np.abs(result - cpu_reference)
    print(f"{precision}: mean {difference.mean():.3f}, p99.9 {np.percentile(difference, 99.9):.2f} levels")
    assert difference.mean() <= mean_levels
    assert np.percentile(difference, 99.9) <= p999_levels


def test_the_default_on_cuda_is_fp16() -> None:
    descriptor, network = default_registry().load(RRDBNet(RRDBNetConfig(num_block=1, num_feat=8)).state_dict())
    engine = prepare_engine(LoadedModel(descriptor, network), EngineOptions())
    assert engine.target == ComputeTarget(torch.device("cuda"), Precision.FP16)


@pytest.fixture
def memory_cap() -> Iterator[None]:
    """Caps this process's CUDA allocations at 64 MiB above what it holds now (other tests' models stay on the GPU);
    the allocator raises ``torch.OutOfMemoryError`` beyond."""
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction((torch.cuda.memory_reserved() + (64 << 20)) / total)
    yield
    torch.cuda.set_per_process_memory_fraction(1.0)
    torch.cuda.empty_cache()


def _tiny_rrdbnet() -> LoadedModel:
    torch.manual_seed(0)
    descriptor, network = default_registry().load(RRDBNet(RRDBNetConfig(num_block=2, num_feat=16)).state_dict())
    return LoadedModel(descriptor, network)


def test_a_real_cuda_out_of_memory_shrinks_the_tile_and_the_result_is_whole(memory_cap: None, tmp_path: Path) -> None:
    model = _tiny_rrdbnet()
    image = np.random.default_rng(5).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    engine = prepare_engine(model, EngineOptions(device="cuda", precision=Precision.FP32))
    # The automatic tile comes from the GPU's free memory, which knows nothing of the cap: the first tile fails.
    assert engine.settings.tile >= 1024
    result = upscale_image(ImageData(image), engine.runner, engine.settings).colour.astype(np.float32)
    torch.cuda.set_per_process_memory_fraction(1.0)
    whole = np.rint(np.clip(run_untiled(model, image.astype(np.float32) / 255, CPU32), 0, 1) * 255)
    difference = np.abs(result - whole)
    assert difference.mean() < 0.05 and difference.max() <= 2  # TF32 rounding, no misplaced or stale tile


def test_a_fixed_tile_that_runs_out_of_cuda_memory_names_it(memory_cap: None) -> None:
    model = _tiny_rrdbnet()
    image = np.random.default_rng(5).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    engine = prepare_engine(model, EngineOptions(device="cuda", precision=Precision.FP32, tile=1024))
    with pytest.raises(OutOfMemoryError, match="tile size 1024") as caught:
        upscale_image(ImageData(image), engine.runner, engine.settings)
    assert "--tile" in caught.value.hint


def test_the_direct_whole_image_path_on_cuda_equals_the_float_path(x4plus: LoadedModel, photo: np.ndarray) -> None:
    # run_into rounds on the GPU and sends back uint8: the same bytes as sending floats and rounding on the CPU.
    runner = TorchRunner(x4plus.network, x4plus.descriptor, ComputeTarget(torch.device("cuda"), Precision.FP16))
    batch = np.ascontiguousarray(photo.transpose(2, 0, 1), dtype=np.float32)[None] / 255
    direct = np.empty((photo.shape[0] * 4, photo.shape[1] * 4, 3), dtype=np.uint8)
    runner.run_into(batch, direct)
    general = to_dtype(runner.run(batch)[0].transpose(1, 2, 0).copy(), np.dtype(np.uint8))
    np.testing.assert_array_equal(direct, general)
