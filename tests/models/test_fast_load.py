"""Loading builds the network without the random initialisation a fresh one gets (it is overwritten at once), and
still hands back tensors of its own, in its own dtypes, as a plain ``load_state_dict`` did."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_backend.archs.swinir import SwinIR, SwinIRConfig
from ldl_backend.models.detection import default_registry


def test_no_weight_is_initialised_on_a_real_device(monkeypatch: pytest.MonkeyPatch, tiny_rrdbnet: RRDBNet) -> None:
    state = {key: value.clone() for key, value in tiny_rrdbnet.state_dict().items()}
    initialised: list[bool] = []
    original = nn.init.kaiming_uniform_

    def spy(tensor: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        initialised.append(tensor.is_meta)
        return original(tensor, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(nn.init, "kaiming_uniform_", spy)
    _, network = default_registry().load(state)
    assert initialised and all(initialised), "a weight was randomly initialised before being overwritten"
    x = torch.rand(1, 3, 12, 12)
    torch.testing.assert_close(network(x), tiny_rrdbnet(x), rtol=0, atol=0)


def test_the_network_owns_float32_copies_of_the_loaded_tensors(tiny_rrdbnet: RRDBNet) -> None:
    half = {key: value.half() for key, value in tiny_rrdbnet.state_dict().items()}
    _, first = default_registry().load(half)
    _, second = default_registry().load(half)  # e.g. the EMA copy in training, from the same file
    for (key, mine), theirs in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert mine.dtype == torch.float32 and not mine.is_meta, key
        assert mine.data_ptr() != half[key].data_ptr() and mine.data_ptr() != theirs.data_ptr(), key
    with torch.no_grad():
        next(first.parameters()).add_(1.0)
    assert not torch.equal(next(first.parameters()), next(second.parameters()))


def test_a_network_with_buffers_of_its_own_is_complete() -> None:
    torch.manual_seed(0)
    config = SwinIRConfig(embed_dim=12, depths=(1,), num_heads=(2,), window_size=4, scale=2, num_feat=8)
    reference = SwinIR(config).eval()
    _, network = default_registry().load(reference.state_dict())
    assert not any(t.is_meta for t in (*network.parameters(), *network.buffers()))
    x = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        torch.testing.assert_close(network(x), reference(x))


def test_float32_tensors_are_copied_too(tiny_rrdbnet: RRDBNet) -> None:
    # Same dtype: a load that skipped the copy would share the caller's tensors (e.g. a file's memory map).
    state = {key: value.clone() for key, value in tiny_rrdbnet.state_dict().items()}
    _, network = default_registry().load(state)
    for key, mine in network.state_dict().items():
        assert mine.data_ptr() != state[key].data_ptr(), key
