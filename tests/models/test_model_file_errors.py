"""Every refusal of the ``.pth`` and ``.safetensors`` readers at its edge: the last accepted file and the first
refused one, each error naming the file (and the tensor) with a hint, and ``torch.load`` only ever called in its
safe form. Part of the mutation run's test set for the model-file checks (tests/MUTATION.md)."""

from __future__ import annotations

import json
import pickle
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch

from ldl_backend.errors import ModelFileError, UnsafeModelFileError
from ldl_backend.models.formats import pth as pth_module
from ldl_backend.models.formats.pth import WeightsKey, read_pth
from ldl_backend.models.formats.safetensors_file import MAX_HEADER_BYTES, check_header, read_safetensors
from ldl_backend.models.state_dict import MAX_TENSOR_ELEMENTS


def refused(call: Any, *args: Any, match: str) -> ModelFileError:
    with pytest.raises(ModelFileError, match=match) as caught:
        call(*args)
    assert caught.value.hint, caught.value
    return caught.value


def safetensors_bytes(header: Mapping[str, object], body: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


def entry(begin: int, end: int, shape: object = None, dtype: object = "F32") -> dict[str, object]:
    return {"dtype": dtype, "shape": [(end - begin) // 4] if shape is None else shape, "data_offsets": [begin, end]}


# --- .pth ---------------------------------------------------------------------------------------------------------


def test_torch_load_is_only_called_in_its_safe_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # weights_only=True refuses pickled code (torch < 2.6 defaulted to False); map_location keeps CUDA tensors off
    # a GPU that may not exist.
    calls: list[dict[str, Any]] = []
    load = torch.load

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return load(*args, **kwargs)

    monkeypatch.setattr(pth_module.torch, "load", spy)
    path = tmp_path / "m.pth"
    torch.save({"w": torch.ones(2)}, path)
    assert torch.equal(read_pth(path)["w"], torch.ones(2))
    assert calls == [{"map_location": "cpu", "weights_only": True}]


def test_a_missing_pth_names_the_path(tmp_path: Path) -> None:
    error = refused(read_pth, tmp_path / "absent.pth", match="absent.pth does not exist")
    assert str(tmp_path) in error.message and error.hint == "check the path"


@pytest.mark.filterwarnings("ignore:Detected pickle protocol 4:UserWarning")
def test_a_legacy_pickle_that_would_run_code_is_unsafe(tmp_path: Path) -> None:
    # torch stops a protocol-4 pickle at an opcode it does not take, before any global: its message names no
    # "unsupported global", so the first phrase alone must catch it.
    path = tmp_path / "legacy.pth"
    path.write_bytes(pickle.dumps(print, protocol=4))
    with pytest.raises(UnsafeModelFileError, match=r"legacy\.pth asks to run code") as caught:
        read_pth(path)
    assert "nothing ran" in caught.value.message and caught.value.hint


def test_bytes_that_are_no_pickle_are_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "noise.pth"
    path.write_bytes(b"\x80\x02}q\x00Xnot a real pickle")
    error = refused(read_pth, path, match="noise.pth")
    assert not isinstance(error, UnsafeModelFileError) and "checkpoint" in error.message


def test_pth_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "named.pth"
    torch.save({"params": {"w": torch.tensor([float("inf")])}}, path)
    refused(read_pth, path, match="^named.pth: tensor 'w' contains NaN or infinity")
    torch.save({"params_ema": {"w": torch.zeros(1)}}, path)
    error = refused(
        read_pth, path, WeightsKey.PARAMS, match="^named.pth has no 'params' weights \\(it has: params_ema\\)"
    )
    assert "auto" in error.hint
    torch.save({"w": torch.zeros(1)}, path)
    refused(
        read_pth, path, WeightsKey.PARAMS_EMA, match="has no 'params_ema' weights \\(it has: \\(bare state dict\\)\\)"
    )


# --- .safetensors: the header ---------------------------------------------------------------------------------------


def test_the_shortest_file_is_eight_bytes() -> None:
    refused(check_header, b"\0" * 7, "s", match="^s is too short to be a safetensors file")
    refused(check_header, struct.pack("<Q", 0), "s", match="^s has a header that is not JSON")  # 8 bytes: read on


def test_the_header_must_end_inside_the_file() -> None:
    exact = struct.pack("<Q", 2) + b"{}"
    assert check_header(exact, "s") == {}
    refused(check_header, struct.pack("<Q", 3) + b"{}", "s", match="^s declares a 3-byte header, beyond the file")
    # A length with the top bit set is a huge unsigned number, not a negative one.
    refused(check_header, struct.pack("<Q", 1 << 63) + b"{}", "s", match=f"declares a {1 << 63}-byte header")


def test_the_header_size_limit_is_inclusive() -> None:
    limit = b"{}" + b" " * (MAX_HEADER_BYTES - 2)  # valid JSON of exactly the limit
    assert check_header(struct.pack("<Q", MAX_HEADER_BYTES) + limit, "s") == {}
    over = limit + b" "
    refused(check_header, struct.pack("<Q", MAX_HEADER_BYTES + 1) + over, "s", match="beyond the file")


@pytest.mark.parametrize(("header", "message"), [(b"[]", "not a JSON object"), (b'"x"', "not a JSON object")])
def test_the_header_must_be_an_object(header: bytes, message: str) -> None:
    refused(check_header, struct.pack("<Q", len(header)) + header, "s", match=f"^s has a header that is {message}")


@pytest.mark.parametrize("metadata", ["x", ["a"], {"a": 1}, {"a": None}])
def test_malformed_metadata_is_refused(metadata: object) -> None:
    refused(check_header, safetensors_bytes({"__metadata__": metadata}), "s", match="^s has malformed metadata")


def test_entries_after_the_metadata_are_still_checked() -> None:
    header = {"__metadata__": {"k": "v"}, "w": entry(0, 8)}
    assert check_header(safetensors_bytes(header, bytes(8)), "s") == {"k": "v"}
    refused(check_header, safetensors_bytes(header, bytes(4)), "s", match="^s: tensor 'w' claims bytes 0..8")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x", "header entry 'w' is not an object"),
        ({"dtype": "F32", "shape": 5, "data_offsets": [0, 4]}, "tensor 'w' has a malformed shape 5"),
        ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, "tensor 'w' has a malformed shape \\[-1\\]"),
        ({"dtype": "F32", "shape": ["a"], "data_offsets": [0, 4]}, "tensor 'w' has a malformed shape"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0]}, "tensor 'w' has malformed offsets \\[0\\]"),
        ({"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}, "tensor 'w' has malformed offsets"),
        ({"dtype": "I8", "shape": [4], "data_offsets": [0, 4]}, "tensor 'w' has dtype 'I8', expected a float type"),
    ],
)
def test_malformed_entries_are_named(value: object, message: str) -> None:
    refused(check_header, safetensors_bytes({"w": value}, bytes(4)), "s", match=f"^s: {message}")


def test_an_empty_tensor_is_a_valid_entry() -> None:
    assert check_header(safetensors_bytes({"w": entry(0, 0, shape=[0])}), "s") == {}


def test_the_element_limit_is_inclusive() -> None:
    # At the limit the element check passes (the bytes check then refuses the small body); one more is refused.
    at_limit = safetensors_bytes({"w": entry(0, 4, shape=[MAX_TENSOR_ELEMENTS])}, bytes(4))
    refused(check_header, at_limit, "s", match="^s: tensor 'w' claims bytes 0..4")
    over = safetensors_bytes({"w": entry(0, 4, shape=[MAX_TENSOR_ELEMENTS + 1])}, bytes(4))
    refused(check_header, over, "s", match=f"^s: tensor 'w' claims {MAX_TENSOR_ELEMENTS + 1} elements")


def test_offsets_must_fit_the_body_exactly() -> None:
    assert check_header(safetensors_bytes({"w": entry(4, 8)}, bytes(8)), "s") == {}
    refused(check_header, safetensors_bytes({"w": entry(4, 12)}, bytes(8)), "s", match="does not fit the 8-byte body")
    refused(
        check_header, safetensors_bytes({"w": entry(4, 8, shape=[2])}, bytes(8)), "s", match="for shape \\[2\\] F32"
    )


def test_overlaps_are_named() -> None:
    header = {"a": entry(0, 8), "b": entry(4, 12)}
    refused(check_header, safetensors_bytes(header, bytes(12)), "s", match="^s: tensors 'a' and 'b' overlap")


# --- .safetensors: the file -----------------------------------------------------------------------------------------


def test_a_missing_safetensors_file_names_the_path(tmp_path: Path) -> None:
    error = refused(read_safetensors, tmp_path / "absent.safetensors", match="absent.safetensors could not be read: ")
    assert str(tmp_path) in error.message and error.hint == "check the path"


def test_a_file_the_library_cannot_decode_is_named(tmp_path: Path) -> None:
    # Our header check allows unused bytes after the last tensor; the safetensors library does not.
    path = tmp_path / "gap.safetensors"
    path.write_bytes(safetensors_bytes({"w": entry(0, 4)}, bytes(8)))
    refused(read_safetensors, path, match="^gap.safetensors could not be decoded: ")


def test_tensor_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nan.safetensors"
    path.write_bytes(safetensors_bytes({"w": entry(0, 4)}, struct.pack("<f", float("nan"))))
    refused(read_safetensors, path, match="^nan.safetensors: tensor 'w' contains NaN or infinity")
