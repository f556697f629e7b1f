"""Every bad model file gets a clear error, nothing in it runs, and nothing is installed."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch

from ldl_backend.archs.rrdbnet import RRDBNet
from ldl_backend.errors import ModelFileError, UnknownArchitectureError, UnsafeModelFileError
from ldl_backend.models.formats.pth import WeightsKey, read_pth
from ldl_backend.models.formats.safetensors_file import read_safetensors, write_safetensors
from ldl_backend.models.loading import load_model, read_state_dict
from ldl_backend.models.store import ModelStore


class _RunsCode:
    """Unpickling this runs `touch marker`: the marker appearing would prove code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _ldl_checkpoint(network: torch.nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    params = network.state_dict()
    ema = {key: value + 1.0 for key, value in params.items()}
    return {"params": params, "params_ema": ema}


def test_ldl_file_with_both_keys_loads_params_by_default(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "net_g_RealESRGAN+LDL.pth"
    torch.save(_ldl_checkpoint(tiny_rrdbnet), path)

    default = load_model(path)
    ema = load_model(path, WeightsKey.PARAMS_EMA)

    expected = tiny_rrdbnet.state_dict()
    assert all(torch.equal(default.network.state_dict()[k], v) for k, v in expected.items())
    assert all(torch.equal(ema.network.state_dict()[k], v + 1.0) for k, v in expected.items())


def test_requested_key_that_is_absent_names_what_the_file_has(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "ema_only.pth"
    torch.save({"params_ema": tiny_rrdbnet.state_dict()}, path)
    assert load_model(path).descriptor.config == tiny_rrdbnet.config  # auto takes the only one present
    with pytest.raises(ModelFileError, match="has no 'params' weights \\(it has: params_ema\\)"):
        read_pth(path, WeightsKey.PARAMS)


def test_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"params": {"conv_first.weight": torch.zeros(1)}, "payload": _RunsCode(marker)}, path)
    with pytest.raises(UnsafeModelFileError, match="nothing ran") as caught:
        read_state_dict(path)
    assert caught.value.hint
    assert not marker.exists()
    # A bare (non-zip) pickle is refused the same way.
    legacy = tmp_path / "evil_legacy.pth"
    legacy.write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(ModelFileError):
        read_state_dict(legacy)
    assert not marker.exists()


def test_truncated_pth(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    whole = tmp_path / "whole.pth"
    torch.save({"params": tiny_rrdbnet.state_dict()}, whole)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="could not be read as a PyTorch checkpoint") as caught:
        read_state_dict(truncated)
    assert "download it again" in caught.value.hint


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.pth"
    path.write_bytes(
        torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(3)).byte().numpy().tobytes()
    )
    with pytest.raises(ModelFileError):
        read_state_dict(path)


def test_unknown_network_names_the_closest_architecture(tmp_path: Path) -> None:
    path = tmp_path / "discriminator.pth"
    torch.save({"conv0.weight": torch.zeros(8, 3, 3, 3), "linear.weight": torch.zeros(1, 8)}, path)
    with pytest.raises(UnknownArchitectureError, match="do not look like any supported") as caught:
        load_model(path)
    # The hint lists the registry's architectures, not a hand-kept list.
    assert "SwinIR, RRDBNet, SRVGGNetCompact" in caught.value.hint


def test_nearly_rrdbnet_names_rrdbnet_and_the_missing_keys(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    state = tiny_rrdbnet.state_dict()
    del state["conv_up2.weight"], state["body.1.rdb2.conv3.bias"]
    path = tmp_path / "damaged.pth"
    torch.save(state, path)
    with pytest.raises(UnknownArchitectureError) as caught:
        load_model(path)
    assert caught.value.closest == "RRDBNet"
    assert "conv_up2.weight" in caught.value.missing_keys or "body.1.rdb2.conv3.bias" in caught.value.missing_keys


def test_wrong_shape_is_reported(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    state = tiny_rrdbnet.state_dict()
    state["conv_hr.weight"] = torch.zeros(16, 16, 1, 1)
    torch.save(state, tmp_path / "shape.pth")
    with pytest.raises(UnknownArchitectureError, match=r"conv_hr.weight has shape \(16, 16, 1, 1\)"):
        load_model(tmp_path / "shape.pth")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a tensor", "is a str, not a tensor"),
        (torch.zeros(3, dtype=torch.int64), "expected floating point"),
        (torch.tensor([1.0, float("nan")]), "NaN or infinity"),
        (torch.tensor([1.0, float("inf")]), "NaN or infinity"),
        (torch.tensor([float("-inf"), 1.0]), "NaN or infinity"),
        (torch.zeros(3).to_sparse(), "sparse"),
    ],
)
def test_entries_that_are_not_dense_finite_float_tensors(value: object, message: str, tmp_path: Path) -> None:
    path = tmp_path / "odd.pth"
    torch.save({"conv_first.weight": value}, path)
    with pytest.raises(ModelFileError, match=message):
        read_state_dict(path)


def _lying_safetensors(tmp_path: Path, header: dict[str, object], body: bytes) -> Path:
    encoded = json.dumps(header).encode()
    path = tmp_path / "lying.safetensors"
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + body)
    return path


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}, "does not fit"),
        ({"w": {"dtype": "F32", "shape": [1000000], "data_offsets": [0, 16]}}, "does not fit"),
        ({"w": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}}, "expected a float type"),
        (
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
            },
            "overlap",
        ),
        ({"w": {"dtype": "F32", "shape": "x", "data_offsets": [0, 16]}}, "malformed shape"),
        # Unhashable: a TypeError from the dtype lookup once escaped (found by tests/models/test_state_dict_fuzz.py).
        ({"w": {"dtype": ["F32"], "shape": [4], "data_offsets": [0, 16]}}, "expected a float type"),
        ({"w": {"dtype": {}, "shape": [4], "data_offsets": [0, 16]}}, "expected a float type"),
    ],
)
def test_safetensors_with_a_lying_header(header: dict[str, object], message: str, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=message):
        read_safetensors(_lying_safetensors(tmp_path, header, bytes(16)))


def test_safetensors_header_longer_than_the_file(tmp_path: Path) -> None:
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(ModelFileError, match="header, beyond the file"):
        read_safetensors(path)


def test_safetensors_keeps_metadata(tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "ok.safetensors"
    write_safetensors(path, tiny_rrdbnet.state_dict(), {"ldl.origin": "test"})
    tensors, metadata = read_safetensors(path)
    assert metadata == {"ldl.origin": "test"}
    assert set(tensors) == set(tiny_rrdbnet.state_dict())


def test_bad_imports_leave_the_catalog_unchanged(store: ModelStore, tiny_rrdbnet: RRDBNet, tmp_path: Path) -> None:
    good = tmp_path / "good.pth"
    torch.save({"params": tiny_rrdbnet.state_dict()}, good)
    store.import_file(good, "good")
    before = {p.name: p.read_bytes() for p in store.root.iterdir()}

    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.pth"
    torch.save(_RunsCode(marker), evil)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:1000])
    unknown = tmp_path / "unknown.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, unknown)
    noise = tmp_path / "noise.safetensors"
    noise.write_bytes(b"\x00" * 64)
    for bad in (evil, truncated, unknown, noise):
        with pytest.raises(ModelFileError):
            store.import_file(bad, "bad")
    assert {p.name: p.read_bytes() for p in store.root.iterdir()} == before
    assert [s.entry.name for s in store.list() if s.entry.name in ("good", "bad")] == ["good"]
    assert not marker.exists()
