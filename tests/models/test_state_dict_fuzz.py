"""Property tests over "almost valid" model weights: a real (tiny) generator's state dict with one thing wrong (a
key renamed or dropped, a shape off by one, an integer dtype, a NaN or an infinity), and a safetensors file whose
header lies by a little. Each is either recognised as exactly the generator it came from or refused with
``ModelFileError`` (a message and a hint); no other exception escapes. Derandomized: the same examples every run."""

from __future__ import annotations

import json
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ldl_backend.archs.srvgg import SRVGGNetCompact, SRVGGNetCompactConfig
from ldl_backend.errors import ModelFileError
from ldl_backend.models.detection import default_registry
from ldl_backend.models.formats.safetensors_file import check_header, read_safetensors
from ldl_backend.models.state_dict import validate_state_dict

QUICK = settings(max_examples=60, deadline=None, derandomize=True, database=None)
CONFIG = SRVGGNetCompactConfig(num_feat=4, num_conv=2, scale=2)
torch.manual_seed(0)
STATE = SRVGGNetCompact(CONFIG).state_dict()
KEYS = sorted(STATE)
REGISTRY = default_registry()


@st.composite
def almost_state_dict(draw: st.DrawFn) -> dict[str, object]:
    state: dict[str, object] = {key: value.clone() for key, value in STATE.items()}
    key = draw(st.sampled_from(KEYS))
    tensor = STATE[key]
    edit = draw(st.sampled_from(["rename", "drop", "extra", "shape", "dtype", "nan", "inf", "none"]))
    if edit == "rename":
        at = draw(st.integers(0, len(key) - 1))
        state[key[:at] + draw(st.sampled_from(["", "x", ".", "0", "_"])) + key[at + 1 :]] = state.pop(key)
    elif edit == "drop":
        del state[key]
    elif edit == "extra":
        state[key + draw(st.sampled_from(["", ".extra", "_ema"])) + "2"] = torch.zeros(1)
    elif edit == "shape":
        shape = list(tensor.shape)
        axis = draw(st.integers(0, len(shape) - 1))
        shape[axis] = max(1, shape[axis] + draw(st.sampled_from([-1, 1])))
        state[key] = torch.zeros(shape)
    elif edit == "dtype":
        state[key] = tensor.to(draw(st.sampled_from([torch.int32, torch.int8, torch.float16, torch.bfloat16])))
    elif edit in ("nan", "inf"):
        bad = tensor.clone().flatten()
        bad[draw(st.integers(0, bad.numel() - 1))] = (
            float("nan") if edit == "nan" else draw(st.sampled_from([1, -1])) * float("inf")
        )
        state[key] = bad.reshape(tensor.shape)
    return state


@QUICK
@given(state=almost_state_dict())
def test_almost_valid_weights_are_the_generator_or_refused(state: dict[str, object]) -> None:
    try:
        checked = validate_state_dict(state, "m.pth")
        detected = REGISTRY.detect(checked)
    except ModelFileError as error:
        assert str(error).strip() and error.hint
        return
    # Accepted: only a float dtype change (same values, rounded) may pass, and it is the same generator.
    assert detected.descriptor.config == CONFIG
    assert set(detected.state_dict) == set(STATE)
    for key, value in detected.state_dict.items():
        assert value.dtype == torch.float32 and torch.isfinite(value).all()
        assert torch.allclose(value, STATE[key], rtol=1e-2, atol=1e-2)


def _safetensors(state: dict[str, torch.Tensor]) -> tuple[dict[str, object], bytes]:
    header: dict[str, object] = {}
    body = b""
    for key, value in state.items():
        data = value.numpy().tobytes()
        header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    return header, body


def _file(header: dict[str, object], body: bytes) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


HEADER, BODY = _safetensors({key: STATE[key] for key in KEYS[:3]})


@st.composite
def almost_safetensors(draw: st.DrawFn) -> bytes:
    """The valid file with one lie: an offset or dimension nudged, another dtype, the body cut, a field's type."""
    header = json.loads(json.dumps(HEADER))
    body = BODY
    entry = header[draw(st.sampled_from(sorted(header)))]
    edit = draw(st.sampled_from(["offset", "dim", "dtype", "cut", "type", "declared"]))
    nudge = draw(st.sampled_from([-4, -1, 1, 4]))
    if edit == "offset":
        entry["data_offsets"][draw(st.integers(0, 1))] += nudge
    elif edit == "dim":
        entry["shape"][draw(st.integers(0, len(entry["shape"]) - 1))] += nudge
    elif edit == "dtype":
        entry["dtype"] = draw(st.sampled_from(["F16", "F64", "BF16", "I32", "f32", ""]))
    elif edit == "cut":
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif edit == "type":
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
        entry[field] = draw(st.sampled_from([None, "1", 1.0, [1.5], {}, [True]]))
    data = _file(header, body)
    if edit == "declared":  # the header length itself
        declared = struct.unpack("<Q", data[:8])[0] + nudge
        data = struct.pack("<Q", max(0, declared)) + data[8:]
    return data


def test_the_valid_file_reads_back() -> None:
    assert check_header(_file(HEADER, BODY), "m") == {}


@QUICK
@given(data=almost_safetensors())
def test_a_lying_safetensors_header_is_refused(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("lying") / "m.safetensors"
    path.write_bytes(data)
    try:
        tensors, _ = read_safetensors(path)
    except ModelFileError as error:
        assert "m.safetensors" in str(error) and error.hint
        return
    # A lie that still describes a consistent file (an F16 of the same bytes, say) reads as that file says.
    assert set(tensors) <= set(HEADER) and all(value.dtype == torch.float32 for value in tensors.values())
