"""The tiled runner: tiles with a margin covering the receptive field reproduce the untiled output exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ldl_backend.archs.srvgg import SRVGGNetCompact
from ldl_backend.engine.device import ComputeTarget, Precision, choose_target
from ldl_backend.engine.upscale import TileSettings, run_network, upscale_array
from ldl_backend.errors import LdlError
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel

CPU = ComputeTarget(torch.device("cpu"), Precision.FP32)


@pytest.fixture
def compact_model(tiny_compact: SRVGGNetCompact) -> LoadedModel:
    descriptor, network = default_registry().load(tiny_compact.state_dict())
    return LoadedModel(descriptor, network)


def test_tiled_equals_untiled_when_the_margin_covers_the_receptive_field(compact_model: LoadedModel) -> None:
    image = np.random.default_rng(0).random((37, 53, 3), dtype=np.float32)
    whole = run_network(compact_model, image, CPU)
    margin = compact_model.descriptor.receptive_field
    seen: list[tuple[int, int]] = []

    tiled = upscale_array(
        compact_model, image, CPU, TileSettings(tile=16, margin=margin), lambda d, t: seen.append((d, t))
    )

    assert tiled.shape == (37 * 4, 53 * 4, 3)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    assert seen[-1] == (12, 12) and len(seen) == 12
    # Without a margin, seams differ: the test would notice a broken margin.
    seamed = upscale_array(compact_model, image, CPU, TileSettings(tile=16, margin=0))
    assert float(np.abs(seamed - whole).max()) > 1e-3


def test_fp16_on_cpu_is_refused_with_a_hint(compact_model: LoadedModel) -> None:
    with pytest.raises(LdlError, match="fp16 is not supported on the CPU") as caught:
        choose_target(compact_model.descriptor, "cpu", Precision.FP16)
    assert "bf16" in caught.value.hint
    assert choose_target(compact_model.descriptor, "cpu").precision is Precision.FP32


def test_bf16_on_cpu_stays_close_to_fp32(compact_model: LoadedModel) -> None:
    image = np.random.default_rng(1).random((20, 20, 3), dtype=np.float32)
    fp32 = run_network(compact_model, image, CPU)
    bf16 = run_network(compact_model, image, ComputeTarget(torch.device("cpu"), Precision.BF16))
    assert float(np.abs(fp32 - bf16).max()) < 0.05
