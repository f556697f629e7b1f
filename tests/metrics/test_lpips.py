"""LPIPS: network structure against torchvision's key names, exact tiling, strict weight loading, missing files.

The real ImageNet backbones cannot be downloaded here, so values are checked on synthetic weights; the real
LPIPS v0.1 linear-layer file is checked when a copy of the lpips 0.1.4 wheel is provided (LDL_TEST_LPIPS_WHEEL).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ldl_backend.errors import AssetNotInstalledError, ModelFileError
from ldl_backend.metrics.lpips import Lpips, LpipsConfig, LpipsVariant, lpips_distance
from ldl_backend.metrics.lpips_networks import ALEXNET, VGG16, BackboneSpec, Conv, FeatureBackbone
from ldl_backend.metrics.lpips_weights import load_exactly, load_lpips, lpips_available, required_assets
from ldl_backend.models.asset_store import AssetStore

_ALEX_CONVS = (0, 3, 6, 8, 10)
_VGG_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


def _narrow(spec: BackboneSpec, divisor: int = 16) -> BackboneSpec:
    """The same geometry with 1/divisor of the channels: tiling depends on geometry only, and this is fast."""

    def width(channels: int) -> int:
        return channels if channels == 3 else max(2, channels // divisor)

    layers = tuple(
        dataclasses.replace(layer, in_channels=width(layer.in_channels), out_channels=width(layer.out_channels))
        if isinstance(layer, Conv)
        else layer
        for layer in spec.layers
    )
    return dataclasses.replace(spec, layers=layers)


def _model(variant: LpipsVariant, narrow: bool = True, seed: int = 0) -> Lpips:
    torch.manual_seed(seed)
    model = Lpips(LpipsConfig(variant, backbone=_narrow(variant.backbone) if narrow else None)).eval()
    for layer in model.linear.layers:  # LPIPS's linear weights are non-negative (clamped while it was trained)
        layer.weight.data.abs_()
    return model


def _pair(shape: tuple[int, int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    noise = rng.integers(-40, 41, a.shape)
    return a, np.clip(a.astype(np.int64) + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("spec", "channels", "strides", "fields", "sizes_at_64", "min_size"),
    [
        (ALEXNET, (64, 192, 384, 256, 256), (4, 8, 16, 16, 16), (11, 51, 99, 131, 163), (15, 7, 3, 3, 3), 31),
        (VGG16, (64, 128, 256, 512, 512), (1, 2, 4, 8, 16), (5, 14, 40, 92, 196), (64, 32, 16, 8, 4), 16),
    ],
)
def test_backbone_taps_channels_and_sizes(
    spec: BackboneSpec,
    channels: tuple[int, ...],
    strides: tuple[int, ...],
    fields: tuple[int, ...],
    sizes_at_64: tuple[int, ...],
    min_size: int,
) -> None:
    assert spec.channels == channels
    assert spec.geometry() == tuple(zip(strides, fields, strict=True))
    assert spec.feature_sizes(64) == sizes_at_64
    assert spec.min_size() == min_size
    torch.manual_seed(0)
    with torch.inference_mode():
        outputs = FeatureBackbone(spec)(torch.rand(1, 3, 64, 70))
    assert [tuple(o.shape[1:]) for o in outputs] == [
        (c, h, w) for c, h, w in zip(channels, sizes_at_64, spec.feature_sizes(70), strict=True)
    ]
    assert all(bool((o >= 0).all()) for o in outputs)  # taps are ReLU outputs


@pytest.mark.parametrize(("spec", "convs"), [(ALEXNET, _ALEX_CONVS), (VGG16, _VGG_CONVS)])
def test_state_dict_keys_are_torchvisions(spec: BackboneSpec, convs: tuple[int, ...]) -> None:
    state = FeatureBackbone(spec).state_dict()
    assert list(state) == [f"features.{i}.{name}" for i in convs for name in ("weight", "bias")]
    assert tuple(state["features.0.weight"].shape) == ((64, 3, 11, 11) if spec is ALEXNET else (64, 3, 3, 3))
    linear = Lpips(LpipsConfig(LpipsVariant.ALEX if spec is ALEXNET else LpipsVariant.VGG)).linear.state_dict()
    assert {key: tuple(value.shape) for key, value in linear.items()} == {
        f"lin{i}.model.1.weight": (1, c, 1, 1) for i, c in enumerate(spec.channels)
    }


@pytest.mark.parametrize("variant", list(LpipsVariant))
def test_identical_images_are_at_zero_and_distance_is_symmetric(variant: LpipsVariant) -> None:
    model = _model(variant)
    a, b = _pair((48, 40))
    assert lpips_distance(model, a, a) == 0.0
    forward = lpips_distance(model, a, b)
    assert forward > 0
    assert lpips_distance(model, b, a) == pytest.approx(forward, rel=1e-6)
    # The tensor API agrees with the image API ([0, 1] inputs).
    with torch.inference_mode():
        batch = [torch.from_numpy(x).permute(2, 0, 1).unsqueeze(0).float() / 255 for x in (a, b)]
        assert float(model(*batch)[0]) == pytest.approx(forward, rel=1e-6)


def test_a_larger_change_is_farther() -> None:
    model = _model(LpipsVariant.ALEX)
    a, slight = _pair((64, 64))
    heavy = np.clip(a.astype(np.int64) + (slight.astype(np.int64) - a) * 4, 0, 255).astype(np.uint8)
    assert lpips_distance(model, a, heavy) > lpips_distance(model, a, slight)


@pytest.mark.parametrize(
    ("variant", "shape", "tile"),
    [
        # Thin images keep the crops few and small; a long side above tile + 2 margins gives interior crops.
        (LpipsVariant.ALEX, (450, 40), 48),
        (LpipsVariant.ALEX, (397, 415), 208),  # sides not multiples of 16: the floor at the far edge
        (LpipsVariant.VGG, (18, 560), 64),
        (LpipsVariant.VGG, (230, 245), 128),
    ],
)
def test_tiled_distance_equals_whole_image(variant: LpipsVariant, shape: tuple[int, int], tile: int) -> None:
    model = _model(variant)
    a, b = _pair(shape, seed=1)
    whole = lpips_distance(model, a, b, tile=4096)
    assert lpips_distance(model, a, b, tile=tile) == pytest.approx(whole, rel=1e-5)


def test_bad_inputs_are_refused_with_the_reason() -> None:
    model = _model(LpipsVariant.ALEX)
    a, b = _pair((40, 40))
    with pytest.raises(ValueError, match="one shape"):
        lpips_distance(model, a, b[:, :39])
    with pytest.raises(ValueError, match="uint8"):
        lpips_distance(model, a.astype(np.float32), b)
    with pytest.raises(ValueError, match="at least 31 px"):
        lpips_distance(model, a[:30], b[:30])
    with pytest.raises(ValueError, match="multiple of 16"):
        lpips_distance(model, a, b, tile=40)


def _install_synthetic(assets: AssetStore, variant: LpipsVariant, seed: int = 0) -> Lpips:
    """Write random weights under the real key names where the assets would be installed."""
    model = _model(variant, narrow=False, seed=seed)
    backbone, linear = required_assets(variant)
    assets.root.mkdir(parents=True, exist_ok=True)
    # torchvision's files also hold the classifier, which LPIPS ignores.
    torch.save({**model.backbone.state_dict(), "classifier.1.weight": torch.zeros(2, 2)}, assets.location(backbone))
    torch.save(model.linear.state_dict(), assets.location(linear))
    return model


def test_load_lpips_reads_synthetic_weight_files(tmp_path: Path) -> None:
    assets = AssetStore(tmp_path / "assets")
    assert not lpips_available(LpipsVariant.ALEX, assets)
    original = _install_synthetic(assets, LpipsVariant.ALEX)
    assert lpips_available(LpipsVariant.ALEX, assets) and not lpips_available(LpipsVariant.VGG, assets)

    loaded = load_lpips(LpipsVariant.ALEX, assets)

    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    a, b = _pair((40, 48))
    assert lpips_distance(loaded, a, b) == pytest.approx(lpips_distance(original, a, b), rel=1e-6)


def test_missing_files_are_named_with_how_to_get_them(tmp_path: Path) -> None:
    assets = AssetStore(tmp_path / "assets")
    with pytest.raises(AssetNotInstalledError) as caught:
        load_lpips(LpipsVariant.VGG, assets)
    assert "torchvision-vgg16 and lpips-vgg-v0.1" in caught.value.message
    assert "ldl models fetch torchvision-vgg16" in caught.value.hint
    assert "ldl models fetch lpips-vgg-v0.1" in caught.value.hint


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda sd: sd.pop("features.10.bias"), r"missing: features\.10\.bias"),
        (lambda sd: sd.__setitem__("features.3.weight", torch.zeros(192, 64, 3, 3)), r"wrong shape: features\.3"),
        (lambda sd: sd.__setitem__("features.13.weight", torch.zeros(1)), r"unexpected: features\.13\.weight"),
    ],
)
def test_a_backbone_file_that_does_not_fit_is_refused(tmp_path: Path, damage: object, message: str) -> None:
    assets = AssetStore(tmp_path / "assets")
    _install_synthetic(assets, LpipsVariant.ALEX)
    path = assets.location("torchvision-alexnet")
    state = torch.load(path, weights_only=True)
    damage(state)  # type: ignore[operator]
    torch.save(state, path)
    with pytest.raises(ModelFileError, match=message) as caught:
        load_lpips(LpipsVariant.ALEX, assets)
    assert "ldl models fetch torchvision-alexnet" in caught.value.hint


def test_unreadable_and_unsafe_files_are_refused(tmp_path: Path) -> None:
    assets = AssetStore(tmp_path / "assets")
    _install_synthetic(assets, LpipsVariant.ALEX)
    linear = assets.location("lpips-alex-v0.1")
    linear.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelFileError, match="could not be read"):
        load_lpips(LpipsVariant.ALEX, assets)
    torch.save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1, dtype=torch.int64)}, linear)
    with pytest.raises(ModelFileError, match="not a floating-point tensor"):
        load_lpips(LpipsVariant.ALEX, assets)


def test_the_published_linear_layers_load_when_the_lpips_wheel_is_provided(tmp_path: Path) -> None:
    wheel = os.environ.get("LDL_TEST_LPIPS_WHEEL")
    if not wheel or not Path(wheel).is_file():
        pytest.skip("set LDL_TEST_LPIPS_WHEEL to a copy of lpips-0.1.4-py3-none-any.whl to check the real file")
    assets = AssetStore(tmp_path / "assets")
    for variant in LpipsVariant:
        _, linear_name = required_assets(variant)
        path = assets.import_file(linear_name, Path(wheel))  # checks the wheel's and the member's sha256
        state = torch.load(path, map_location="cpu", weights_only=True)  # saved from a GPU
        linear = Lpips(LpipsConfig(variant)).linear
        load_exactly(linear, state, linear_name)
        weights = [layer.weight.detach() for layer in linear.layers]
        assert all(bool((w >= 0).all()) and float(w.sum()) > 0 for w in weights)


def test_parity_with_the_reference_implementation_when_the_lpips_wheel_is_provided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wheel's own LPIPS code is the oracle: torchvision (absent here) is stubbed with our layer lists, loaded
    with the same random backbone weights; the linear layers are the published ones. This checks everything but
    the ImageNet weights themselves: scaling, taps, normalisation, linear layers, averaging, input mapping."""
    wheel = os.environ.get("LDL_TEST_LPIPS_WHEEL")
    if not wheel or not Path(wheel).is_file():
        pytest.skip("set LDL_TEST_LPIPS_WHEEL to a copy of lpips-0.1.4-py3-none-any.whl to compare with it")
    pytest.importorskip("scipy")  # the reference package imports it
    with zipfile.ZipFile(wheel) as bundle:
        bundle.extractall(tmp_path / "wheel", [n for n in bundle.namelist() if n.startswith("lpips/")])
    backbones = {spec.name: FeatureBackbone(spec).state_dict() for spec in (ALEXNET, VGG16)}

    def builder(spec: BackboneSpec) -> object:
        def build(**_: object) -> object:
            network = FeatureBackbone(spec)
            network.load_state_dict(backbones[spec.name])
            return types.SimpleNamespace(features=network.features)

        return build

    models = types.ModuleType("torchvision.models")
    models.alexnet, models.vgg16 = builder(ALEXNET), builder(VGG16)  # type: ignore[attr-defined]
    vision = types.ModuleType("torchvision")
    vision.models = models  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torchvision", vision)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)
    monkeypatch.syspath_prepend(str(tmp_path / "wheel"))
    before = set(sys.modules)
    try:
        reference_package = importlib.import_module("lpips")
        a, b = _pair((64, 80), seed=3)
        for variant in LpipsVariant:
            reference = reference_package.LPIPS(net=variant.value, version="0.1", verbose=False).eval()
            ours = Lpips(LpipsConfig(variant)).eval()
            ours.backbone.load_state_dict(backbones[variant.backbone.name])
            weights = tmp_path / "wheel" / "lpips" / "weights" / "v0.1" / f"{variant.value}.pth"
            load_exactly(ours.linear, torch.load(weights, map_location="cpu", weights_only=True), variant.value)
            with torch.inference_mode():
                expected = float(reference(*(reference_package.im2tensor(x) for x in (a, b))))
            assert lpips_distance(ours, a, b) == pytest.approx(expected, rel=1e-5)
    finally:
        for name in set(sys.modules) - before:
            del sys.modules[name]
