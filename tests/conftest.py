"""Shared fixtures: tiny seeded networks and an isolated model store."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet, RRDBNetConfig
from ldl_backend.archs.srvgg import SRVGGNetCompact, SRVGGNetCompactConfig
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.detection import default_registry
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import HOME_VARIABLE


@pytest.fixture
def tiny_rrdbnet() -> RRDBNet:
    torch.manual_seed(0)
    return RRDBNet(RRDBNetConfig(num_block=2, num_feat=16, num_grow_ch=8)).eval()


@pytest.fixture
def tiny_compact() -> SRVGGNetCompact:
    torch.manual_seed(0)
    network = SRVGGNetCompact(SRVGGNetCompactConfig(num_feat=8, num_conv=3, scale=4)).eval()
    # PReLU starts at 0.25 everywhere; vary it so a mix-up between channels would show.
    for module in network.body:
        if isinstance(module, torch.nn.PReLU):
            torch.nn.init.uniform_(module.weight, 0.0, 0.5)
    return network


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$LDL_STUDIO_HOME`` pointed at a fresh folder: the ``ldl`` commands keep models and caches there."""
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_VARIABLE, str(home))
    return home


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", builtin_catalog())


@pytest.fixture
def compact_model(tiny_compact: SRVGGNetCompact) -> LoadedModel:
    descriptor, network = default_registry().load(tiny_compact.state_dict())
    return LoadedModel(descriptor, network)
