"""The VGG19 a perceptual loss runs: torchvision's ImageNet weights (an installed asset, or a file), or seeded
random weights for smoke tests. torchvision is never imported; its ``.pth`` is read as a plain state dict."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ldl_backend.archs.vgg import Vgg19Features, randomize_vgg19
from ldl_backend.metrics.lpips_weights import load_exactly
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.models.assets import TORCHVISION_VGG19
from ldl_backend.models.formats.pth import read_pth

_FEATURES_PREFIX = "features."


def vgg19_from_file(layers: Sequence[str], path: Path) -> Vgg19Features:
    """A frozen-ready extractor of ``layers`` with the weights of torchvision's ``vgg19-dcbb9e9d.pth`` at ``path``.

    Only the ``features.N`` the extractor has are used (the classifier and deeper layers are ignored). Raises
    ``ModelFileError`` when the file is unreadable or its tensors do not fit VGG19 (missing keys, wrong shapes).
    """
    network = Vgg19Features(layers)
    kept = len(network.features)
    state = read_pth(path)
    wanted = {
        key: value for key, value in state.items() if key.startswith(_FEATURES_PREFIX) and _layer_index(key) < kept
    }
    load_exactly(network, wanted, TORCHVISION_VGG19)
    return network


def _layer_index(key: str) -> int:
    index = key.split(".")[1]
    return int(index) if index.isdigit() else -1  # not a features.N key: load_exactly reports it as unexpected


def vgg19_from_assets(layers: Sequence[str], assets: AssetStore) -> Vgg19Features:
    """``vgg19_from_file`` on the installed ``torchvision-vgg19`` asset; ``AssetNotInstalledError`` (with how to
    fetch or import it) when it is missing."""
    return vgg19_from_file(layers, assets.require(TORCHVISION_VGG19))


def random_vgg19(layers: Sequence[str], seed: int = 0) -> Vgg19Features:
    """An extractor of ``layers`` with seeded random weights: for smoke tests only (its features mean nothing;
    a perceptual loss built on it does not train a generator towards anything perceptual)."""
    return randomize_vgg19(Vgg19Features(layers), seed)
