"""The layered job's memory estimate against the peak ``tracemalloc`` measures for real runs of the pipeline."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from ldl_backend.artifacts.job_memory import ImageShape, estimate_job_memory
from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.engine.pipeline import OutputSize
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.loading import LoadedModel
from ldl_client.options import ReferenceSource


def _image(height: int, width: int, dtype: type, alpha: bool) -> ImageData:
    rng = np.random.default_rng(height + width)
    if dtype is np.float32:
        return (
            ImageData(rng.random((height, width, 3), dtype=np.float32), rng.random((height, width), dtype=np.float32))
            if alpha
            else ImageData(rng.random((height, width, 3), dtype=np.float32))
        )
    top = np.iinfo(dtype).max
    colour = rng.integers(0, top, (height, width, 3), dtype=dtype)
    return ImageData(colour, rng.integers(0, top, (height, width), dtype=dtype) if alpha else None)


@pytest.mark.parametrize(
    ("height", "width", "dtype", "alpha", "reference", "scale"),
    [
        (40, 96, np.uint8, False, "lanczos", None),
        (48, 64, np.uint16, True, "tta:2", None),
        (64, 48, np.float32, True, "lanczos", 6.0),
        (64, 64, np.uint8, False, "tta:2", 2.0),
    ],
)
def test_the_estimate_covers_the_measured_peak(
    compact_model: LoadedModel, height: int, width: int, dtype: type, alpha: bool, reference: str, scale: float | None
) -> None:
    engine = prepare_engine(compact_model, EngineOptions(device="cpu", tile=64))
    image = _image(height, width, dtype, alpha)
    output_size = None if scale is None else OutputSize(scale=scale)
    tracemalloc.start()
    try:
        upscale_with_layers(image, engine, ArtifactOptions(ReferenceSource.parse(reference)), output_size=output_size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    shape = ImageShape(width, height, 3, alpha, np.dtype(dtype).itemsize)
    final = (output_size or OutputSize()).resolve(width, height, 4)
    estimate = estimate_job_memory(shape, 4, final, tta=reference.startswith("tta"), working=0)
    measured = peak + shape.bytes  # the input was decoded before the job started
    assert measured <= estimate.total <= 1.6 * measured, (measured, estimate)


def test_the_parts_add_up() -> None:
    shape = ImageShape(2000, 1000, 3, True, 2)
    assert shape.bytes == 2000 * 1000 * 4 * 2
    estimate = estimate_job_memory(shape, 4, (8000, 4000), tta=True, working=1234)
    assert estimate.input == shape.bytes and estimate.working == 1234
    assert estimate.total == estimate.input + estimate.layers + estimate.working
    bigger = estimate_job_memory(shape, 4, (16000, 8000), tta=True, working=1234)
    assert bigger.layers > estimate.layers  # a final size beyond the model's scale costs more
    with pytest.raises(ValueError, match="1×1"):
        ImageShape(0, 5, 3, False, 1)
