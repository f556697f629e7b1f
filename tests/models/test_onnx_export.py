"""ONNX export: one file, dynamic height and width, ONNX Runtime equals PyTorch within 1e-4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompact
from ldl_backend.archs.swinir import SwinIR, SwinIRConfig
from ldl_backend.errors import ExportError
from ldl_backend.models.detection import default_registry
from ldl_backend.models.formats.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx
from ldl_backend.models.loading import LoadedModel


def _loaded(network: torch.nn.Module) -> LoadedModel:
    descriptor, loaded = default_registry().load(network.state_dict())
    return LoadedModel(descriptor, loaded)


@pytest.mark.parametrize("which", ["rrdbnet_x4", "rrdbnet_x2", "compact", "swinir"])
def test_onnx_matches_pytorch_on_two_sizes(
    which: str, tiny_rrdbnet: RRDBNet, tiny_compact: SRVGGNetCompact, tmp_path: Path
) -> None:
    network: torch.nn.Module = {
        "rrdbnet_x4": tiny_rrdbnet,
        "rrdbnet_x2": RRDBNet(RRDBNetConfig(scale=2, num_block=1, num_feat=8, num_grow_ch=4)),
        "compact": tiny_compact,
        "swinir": SwinIR(SwinIRConfig(embed_dim=12, depths=(2,), num_heads=(2,), window_size=4, num_feat=8)),
    }[which].eval()
    model = _loaded(network)
    path = tmp_path / "model.onnx"

    check = export_onnx(model, path)

    assert max(check.max_abs_difference.values()) <= 1e-4
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    scale = model.descriptor.scale
    for height, width in ((24, 36), (48, 20)):  # sizes the export never saw, multiples of every size_multiple
        sample = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(height))
        (actual,) = session.run([OUTPUT_NAME], {INPUT_NAME: sample.numpy()})
        with torch.inference_mode():
            expected = network(sample).numpy()
        assert np.asarray(actual).shape == (1, 3, height * scale, width * scale)
        assert float(np.abs(np.asarray(actual) - expected).max()) <= 1e-4


def test_export_that_disagrees_with_pytorch_is_not_kept(tiny_compact: SRVGGNetCompact, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_onnx(_loaded(tiny_compact), path, tolerance=-1.0)
    assert not path.exists()
