"""``upscale_with_layers``: the reference sources, the mask, and layers at a requested output size."""

from __future__ import annotations

import numpy as np
import pytest

from ldl_backend.artifacts import ArtifactOptions, ReferenceSource, TtaRunner, upscale_with_layers
from ldl_backend.engine.device import Precision
from ldl_backend.engine.pipeline import OutputSize, resample, upscale_image
from ldl_backend.engine.upscale import EngineOptions, prepare_engine
from ldl_backend.imageio import ImageData
from ldl_backend.models.loading import LoadedModel


@pytest.fixture
def image() -> ImageData:
    skimage_data = pytest.importorskip("skimage.data")
    return ImageData(np.ascontiguousarray(skimage_data.astronaut()[60:100, 180:228]))


def test_tta_reference_reuses_the_detail_pass(compact_model: LoadedModel, image: ImageData) -> None:
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    layers = upscale_with_layers(image, engine, ArtifactOptions(ReferenceSource.parse("tta:4")))
    full = upscale_image(image, TtaRunner(engine.runner, 4), engine.settings).colour
    # One pass fewer than a full TTA run; equal up to the detail layer's rounding to 8 bits.
    assert np.abs(layers.reference.colour.astype(int) - full.astype(int)).max() <= 1
    assert layers.artifact_map.shape == layers.mask.shape == layers.detail.colour.shape[:2]
    assert 0.0 <= layers.artifact_map.min() <= layers.artifact_map.max() <= 1.0


def test_lanczos_reference_and_output_size(compact_model: LoadedModel, image: ImageData) -> None:
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    options = ArtifactOptions(ReferenceSource.parse("lanczos"), threshold=0.5, softness=0.0)
    layers = upscale_with_layers(image, engine, options, output_size=OutputSize(scale=2))
    assert layers.detail.colour.shape == layers.reference.colour.shape == layers.blend.colour.shape == (80, 96, 3)
    assert layers.artifact_map.shape == layers.mask.shape == (80, 96)
    expected = resample(resample(image, 192, 160), 96, 80).colour
    assert np.array_equal(layers.reference.colour, expected)
    assert set(np.unique(layers.mask)) <= {0.0, 1.0}


def test_a_user_mask_of_the_wrong_size_is_refused(compact_model: LoadedModel, image: ImageData) -> None:
    engine = prepare_engine(compact_model, EngineOptions(precision=Precision.FP32))
    options = ArtifactOptions(ReferenceSource.parse("lanczos"), mask=np.ones((10, 10), np.float32))
    with pytest.raises(ValueError, match=r"^the mask is 10×10 but the image is \d+×\d+") as caught:
        upscale_with_layers(image, engine, options)
    assert "the the" not in str(caught.value)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="softness"):
        ArtifactOptions(softness=-0.1)
