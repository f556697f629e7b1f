"""VGG19 and the two discriminators: layouts and parameter counts against the published networks, by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from ldl_backend.archs.discriminators import UNetDiscriminatorSN, VGGStyleDiscriminator
from ldl_backend.archs.vgg import VGG19_LAYERS, Vgg19Features
from ldl_backend.errors import AssetNotInstalledError, ModelFileError
from ldl_backend.models.asset_store import AssetStore
from ldl_backend.training.config import REALWORLD, SYNTHETIC
from ldl_backend.training.networks import build_discriminator
from ldl_backend.training.vgg_weights import random_vgg19, vgg19_from_assets, vgg19_from_file

# torchvision's vgg19().features: (index, in, out) of each 3×3 convolution; ReLUs and 2×2 max-pools in between.
_VGG19_CONVS = [
    (0, 3, 64), (2, 64, 64),
    (5, 64, 128), (7, 128, 128),
    (10, 128, 256), (12, 256, 256), (14, 256, 256), (16, 256, 256),
    (19, 256, 512), (21, 512, 512), (23, 512, 512), (25, 512, 512),
    (28, 512, 512), (30, 512, 512), (32, 512, 512), (34, 512, 512),
]  # fmt: skip


def _conv_parameters(c_in: int, c_out: int, kernel: int, bias: bool) -> int:
    return c_in * c_out * kernel * kernel + (c_out if bias else 0)


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_vgg19_names_and_indices_are_torchvisions() -> None:
    assert len(VGG19_LAYERS) == 37  # features.0 … features.36
    assert [VGG19_LAYERS[i] for i in (0, 2, 4, 16, 18, 25, 34, 35, 36)] == [
        "conv1_1", "conv1_2", "pool1", "conv3_4", "pool3", "conv4_4", "conv5_4", "relu5_4", "pool5",
    ]  # fmt: skip
    network = Vgg19Features(["conv5_4"])
    expected_keys = {f"features.{i}.{kind}" for i, _, _ in _VGG19_CONVS for kind in ("weight", "bias")}
    assert set(network.state_dict()) == expected_keys
    for index, c_in, c_out in _VGG19_CONVS:
        assert network.state_dict()[f"features.{index}.weight"].shape == (c_out, c_in, 3, 3)
    assert _count(network) == sum(_conv_parameters(i, o, 3, True) for _, i, o in _VGG19_CONVS) == 20_024_384


def test_vgg19_stops_at_the_deepest_layer_and_returns_pre_relu_features_in_order() -> None:
    network = random_vgg19(["conv2_2", "conv1_2"], seed=3)
    assert len(network.features) == 8  # up to features.7 (conv2_2)
    x = torch.rand(1, 3, 16, 16)
    conv2_2, conv1_2 = network(x)
    assert conv1_2.shape == (1, 64, 16, 16) and conv2_2.shape == (1, 128, 8, 8)
    assert conv1_2.min() < 0  # before the ReLU
    layers = network.features
    by_hand = layers[2](F.relu(layers[0](x)))
    torch.testing.assert_close(conv1_2, by_hand)


def test_random_vgg19_is_seeded() -> None:
    first, second, other = (random_vgg19(["conv1_2"], seed) for seed in (0, 0, 1))
    key = "features.0.weight"
    assert torch.equal(first.state_dict()[key], second.state_dict()[key])
    assert not torch.equal(first.state_dict()[key], other.state_dict()[key])


@pytest.mark.parametrize("layers", [["conv6_1"], [], ["conv1_1", "conv1_1"]])
def test_vgg19_refuses_bad_layer_lists(layers: list[str]) -> None:
    with pytest.raises(ValueError, match="VGG19 layer"):
        Vgg19Features(layers)


def _torchvision_like_file(path: Path, drop: str | None = None) -> dict[str, torch.Tensor]:
    """A stand-in for vgg19-dcbb9e9d.pth: every features.N tensor plus a (small) classifier."""
    state = dict(random_vgg19(["pool5"], seed=7).state_dict())
    state["classifier.6.weight"] = torch.zeros(10, 4)
    state["classifier.6.bias"] = torch.zeros(10)
    if drop:
        del state[drop]
    torch.save(state, path)
    return state


def test_weights_load_from_a_torchvision_file(tmp_path: Path) -> None:
    state = _torchvision_like_file(tmp_path / "vgg19.pth")
    network = vgg19_from_file(["conv1_2", "conv3_4"], tmp_path / "vgg19.pth")
    assert torch.equal(network.state_dict()["features.16.weight"], state["features.16.weight"])
    assert len(network.features) == 17


def test_a_file_without_a_needed_layer_is_refused(tmp_path: Path) -> None:
    _torchvision_like_file(tmp_path / "vgg19.pth", drop="features.2.weight")
    with pytest.raises(ModelFileError, match=r"missing: features\.2\.weight"):
        vgg19_from_file(["conv1_2"], tmp_path / "vgg19.pth")
    # A layer beyond the extractor's depth may be absent.
    assert vgg19_from_file(["conv1_1"], tmp_path / "vgg19.pth") is not None


def test_the_missing_asset_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(AssetNotInstalledError, match="torchvision-vgg19") as caught:
        vgg19_from_assets(["conv5_4"], AssetStore(tmp_path / "assets"))
    assert "vgg19-dcbb9e9d.pth" in caught.value.hint


def test_vgg_discriminator_matches_esrgans_128_layout() -> None:
    nf = 64
    # (name, in, out, kernel, bias) of BasicSR's VGGStyleDiscriminator128; every conv but conv0_0 has a BN.
    convs = [("conv0_0", 3, nf, 3, True), ("conv0_1", nf, nf, 4, False)]
    widths = [nf, 2 * nf, 4 * nf, 8 * nf, 8 * nf]
    for stage in range(1, 5):
        convs += [
            (f"conv{stage}_0", widths[stage - 1], widths[stage], 3, False),
            (f"conv{stage}_1", widths[stage], widths[stage], 4, False),
        ]
    norms = [(f"bn{name[4:]}", out) for name, _, out, _, _ in convs[1:]]
    linear1 = 8 * nf * 4 * 4 * 100 + 100  # the 4×4×512 map after five stride-2 stages
    linear2 = 100 + 1
    expected = sum(_conv_parameters(i, o, k, b) for _, i, o, k, b in convs) + sum(2 * c for _, c in norms)
    expected += linear1 + linear2
    network = VGGStyleDiscriminator(3, nf, input_size=128)
    assert _count(network) == expected == 14_499_401
    state = network.state_dict()
    for name, c_in, c_out, kernel, bias in convs:
        assert state[f"{name}.weight"].shape == (c_out, c_in, kernel, kernel)
        assert (f"{name}.bias" in state) is bias
    for name, channels in norms:
        assert state[f"{name}.running_mean"].shape == (channels,)
    assert state["linear1.weight"].shape == (100, 8192) and state["linear2.weight"].shape == (1, 100)
    assert network(torch.rand(2, 3, 128, 128)).shape == (2, 1)


def test_vgg_discriminator_sizes() -> None:
    assert VGGStyleDiscriminator(3, 8, input_size=64)(torch.rand(2, 3, 64, 64)).shape == (2, 1)
    with pytest.raises(ValueError, match="takes 64×64 images"):
        VGGStyleDiscriminator(3, 8, input_size=64)(torch.rand(2, 3, 128, 128))
    with pytest.raises(ValueError, match="multiple of 32"):
        VGGStyleDiscriminator(3, 8, input_size=100)


def test_unet_discriminator_matches_real_esrgans_layout() -> None:
    nf = 64
    # (name, in, out, kernel, bias, spectral norm) of Real-ESRGAN's UNetDiscriminatorSN.
    layout = [
        ("conv0", 3, nf, 3, True, False),
        ("conv1", nf, 2 * nf, 4, False, True),
        ("conv2", 2 * nf, 4 * nf, 4, False, True),
        ("conv3", 4 * nf, 8 * nf, 4, False, True),
        ("conv4", 8 * nf, 4 * nf, 3, False, True),
        ("conv5", 4 * nf, 2 * nf, 3, False, True),
        ("conv6", 2 * nf, nf, 3, False, True),
        ("conv7", nf, nf, 3, False, True),
        ("conv8", nf, nf, 3, False, True),
        ("conv9", nf, 1, 3, True, False),
    ]
    network = UNetDiscriminatorSN(3, nf)
    expected = sum(_conv_parameters(i, o, k, b) for _, i, o, k, b, _ in layout)
    assert _count(network) == expected == 4_376_897
    state = network.state_dict()
    for name, c_in, c_out, kernel, bias, normalised in layout:
        weight = f"{name}.weight_orig" if normalised else f"{name}.weight"
        assert state[weight].shape == (c_out, c_in, kernel, kernel)
        assert (f"{name}.weight_u" in state) is normalised and (f"{name}.bias" in state) is bias
        if normalised:
            assert state[f"{name}.weight_u"].shape == (c_out,)
    assert len(state) == expected_keys(layout)


def expected_keys(layout: list[tuple[str, int, int, int, bool, bool]]) -> int:
    return sum(1 + int(bias) + (2 if normalised else 0) for _, _, _, _, bias, normalised in layout)


def test_unet_discriminator_gives_one_logit_per_pixel_and_uses_its_skips() -> None:
    torch.manual_seed(0)
    with_skips = UNetDiscriminatorSN(3, 8).eval()
    without = UNetDiscriminatorSN(3, 8, skip_connection=False).eval()
    without.load_state_dict(with_skips.state_dict())
    x = torch.rand(1, 3, 24, 40)
    assert with_skips(x).shape == (1, 1, 24, 40)
    assert not torch.allclose(with_skips(x), without(x))
    with pytest.raises(ValueError, match="multiples of 8"):
        with_skips(torch.rand(1, 3, 20, 20))


def test_each_recipe_builds_its_discriminator() -> None:
    assert isinstance(build_discriminator(REALWORLD), UNetDiscriminatorSN)
    vgg = build_discriminator(dataclasses.replace(SYNTHETIC, data=dataclasses.replace(SYNTHETIC.data, patch=64)))
    assert isinstance(vgg, VGGStyleDiscriminator) and vgg.input_size == 64
