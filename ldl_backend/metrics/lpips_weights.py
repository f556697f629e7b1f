"""LPIPS with its published weights: the torchvision ImageNet backbone and the LPIPS v0.1 linear layers, both
installed as assets. Nothing is downloaded here; a missing file is an ``AssetNotInstalledError`` naming it."""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ldl_backend.errors import AssetNotInstalledError, ModelFileError
from ldl_backend.metrics.lpips import Lpips, LpipsConfig, LpipsVariant
from ldl_backend.models.asset_store import AssetStore, install_hint
from ldl_backend.models.assets import LPIPS_ALEX_HEADS, LPIPS_VGG_HEADS, TORCHVISION_ALEXNET, TORCHVISION_VGG16

# torchvision's files hold the whole classifier; LPIPS uses only the convolutional ``features``.
_UNUSED_BACKBONE_PREFIX = "classifier."


def required_assets(variant: LpipsVariant) -> tuple[str, str]:
    """(backbone, linear layers) asset names of ``variant``."""
    if variant is LpipsVariant.ALEX:
        return TORCHVISION_ALEXNET, LPIPS_ALEX_HEADS
    return TORCHVISION_VGG16, LPIPS_VGG_HEADS


def lpips_available(variant: LpipsVariant, assets: AssetStore) -> bool:
    """Whether every file ``load_lpips(variant, …)`` needs is installed (a report says "not installed" if not)."""
    return all(assets.path_of(name) is not None for name in required_assets(variant))


def load_lpips(variant: LpipsVariant, assets: AssetStore, device: torch.device | None = None) -> Lpips:
    """The LPIPS network of ``variant`` with its published weights, in eval mode, on ``device`` (default CPU).

    Raises ``AssetNotInstalledError`` naming every missing file and how to install it, ``ModelFileError`` when a
    file is unreadable or its keys or shapes differ from the network's (the error lists them).
    """
    missing = [name for name in required_assets(variant) if assets.path_of(name) is None]
    if missing:
        raise AssetNotInstalledError(
            f"LPIPS-{variant.value} needs {' and '.join(missing)}, not installed",
            "; ".join(install_hint(assets.get(name)) for name in missing),
        )
    backbone_name, linear_name = required_assets(variant)
    model = Lpips(LpipsConfig(variant))
    backbone = _read(assets.require(backbone_name), backbone_name)
    load_exactly(
        model.backbone,
        {key: value for key, value in backbone.items() if not key.startswith(_UNUSED_BACKBONE_PREFIX)},
        backbone_name,
    )
    load_exactly(model.linear, _read(assets.require(linear_name), linear_name), linear_name)
    return model.to(device or torch.device("cpu")).eval().requires_grad_(False)


def load_exactly(module: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """Load ``state_dict`` into ``module`` only if the keys and shapes match exactly.

    Raises ``ModelFileError`` listing missing keys, unexpected keys and shape differences (the first few of each).
    """
    expected = module.state_dict()
    missing = sorted(expected.keys() - state_dict.keys())
    unexpected = sorted(state_dict.keys() - expected.keys())
    shapes = [
        f"{key} is {tuple(state_dict[key].shape)}, expected {tuple(expected[key].shape)}"
        for key in sorted(expected.keys() & state_dict.keys())
        if state_dict[key].shape != expected[key].shape
    ]
    problems = [
        f"{label}: {', '.join(items[:4])}{' …' if len(items) > 4 else ''}"
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes))
        if items
    ]
    if problems:
        raise ModelFileError(
            f"{source} does not fit the {type(module).__name__} it is for ({'; '.join(problems)})",
            f"the file is not the published {source}; remove it and install it again (`ldl models fetch {source}`)",
        )
    module.load_state_dict({key: value.to(torch.float32) for key, value in state_dict.items()}, strict=True)


def _read(path: Path, source: str) -> dict[str, torch.Tensor]:
    """A state dict of float tensors from a ``.pth``, read with ``weights_only`` (a pickle never runs code here)."""
    hint = f"the file is damaged or not the published one; remove it and run `ldl models fetch {source}`"
    try:
        loaded: object = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise ModelFileError(f"{path.name} could not be read as a PyTorch state dict: {error}", hint) from error
    if not isinstance(loaded, Mapping):
        raise ModelFileError(f"{path.name} holds a {type(loaded).__name__}, not a state dict", hint)
    state: dict[str, torch.Tensor] = {}
    for key, value in loaded.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise ModelFileError(f"{path.name}: entry {key!r} is not a floating-point tensor", hint)
        state[key] = value
    return state
