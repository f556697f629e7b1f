"""``.safetensors``: the format the product stores and prefers. The header is checked before any tensor is read."""

from __future__ import annotations

import itertools
import json
import math
import struct
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from ldl_backend.errors import ModelFileError
from ldl_backend.models.state_dict import MAX_TENSOR_ELEMENTS, StateDict, validate_state_dict
from ldl_backend.storage import write_atomically

MAX_HEADER_BYTES = 16 * 1024 * 1024
_ITEMSIZE = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}
_HINT = "the file is damaged or not a safetensors file; download or convert it again"


def read_safetensors(path: Path) -> tuple[StateDict, dict[str, str]]:
    """Return the tensors and the text metadata of a ``.safetensors`` file.

    Raises ``ModelFileError`` when the header is malformed or lies (offsets outside the file, overlapping or
    with a size that does not match dtype × shape), or a tensor is not floating point.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"{path} could not be read: {error.strerror}", "check the path") from error
    metadata = check_header(data, path.name)
    try:
        tensors = load_safetensors_bytes(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"{path.name} could not be decoded: {error}", _HINT) from error
    return validate_state_dict(tensors, path.name), metadata


def check_header(data: bytes, source: str) -> dict[str, str]:
    if len(data) < 8:
        raise ModelFileError(f"{source} is too short to be a safetensors file", _HINT)
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > MAX_HEADER_BYTES or 8 + header_size > len(data):
        raise ModelFileError(f"{source} declares a {header_size}-byte header, beyond the file", _HINT)
    try:
        header = json.loads(data[8 : 8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{source} has a header that is not JSON", _HINT) from error
    if not isinstance(header, dict):
        raise ModelFileError(f"{source} has a header that is not a JSON object", _HINT)
    body_size = len(data) - 8 - header_size
    metadata: dict[str, str] = {}
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise ModelFileError(f"{source} has malformed metadata", _HINT)
            metadata = {str(k): str(v) for k, v in entry.items()}
            continue
        spans.append(_check_entry(name, entry, body_size, source))
    spans.sort()
    for (_, end, first), (begin, _, second) in itertools.pairwise(spans):
        if begin < end:
            raise ModelFileError(f"{source}: tensors {first!r} and {second!r} overlap", _HINT)
    return metadata


def _check_entry(name: str, entry: object, body_size: int, source: str) -> tuple[int, int, str]:
    if not isinstance(entry, dict):
        raise ModelFileError(f"{source}: header entry {name!r} is not an object", _HINT)
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in _ITEMSIZE:  # a list or object is unhashable: no `in` on a dict
        raise ModelFileError(f"{source}: tensor {name!r} has dtype {dtype!r}, expected a float type", _HINT)
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise ModelFileError(f"{source}: tensor {name!r} has a malformed shape {shape!r}", _HINT)
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise ModelFileError(f"{source}: tensor {name!r} has malformed offsets {offsets!r}", _HINT)
    begin, end = offsets
    elements = math.prod(shape)
    if elements > MAX_TENSOR_ELEMENTS:
        raise ModelFileError(f"{source}: tensor {name!r} claims {elements} elements", _HINT)
    if not 0 <= begin <= end <= body_size or end - begin != elements * _ITEMSIZE[dtype]:
        raise ModelFileError(
            f"{source}: tensor {name!r} claims bytes {begin}..{end} for shape {shape} {dtype}, "
            f"which does not fit the {body_size}-byte body",
            _HINT,
        )
    return begin, end, name


def write_safetensors(
    path: Path, state_dict: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> None:
    """Write contiguous copies of ``state_dict`` atomically (no partial file is ever visible at ``path``)."""
    tensors = {key: value.detach().contiguous() for key, value in state_dict.items()}
    payload = save_safetensors_bytes(tensors, metadata=dict(metadata or {}))
    write_atomically(path, payload)
