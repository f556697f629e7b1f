"""Parser of ncnn's ``.param`` text format into typed, frozen descriptions of the graph.

The format: a magic line ``7767517``; a line ``<layer count> <blob count>``; then one line per layer::

    <type> <name> <input count> <output count> <input blobs…> <output blobs…> <key=value…>

Scalar values are ints, or floats when they hold ``.``, ``e`` or ``E``. A key ``k <= -23300`` marks an array
of parameter ``-k - 23300`` whose value is ``<count>,<v1>,…,<v count>`` (``-23310=1,2.0e-01`` is parameter 10,
one float 0.2). Every blob is written once, by one layer, before any layer reads it.
"""

from __future__ import annotations

import math
import types
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.errors import ModelFileError

__all__ = ["PARAM_MAGIC", "NcnnGraph", "NcnnLayer", "ParamValue", "parse_ncnn_param", "read_ncnn_param"]

PARAM_MAGIC = 7767517
_ARRAY_KEY_BASE = -23300
_PARAM_HINT = "check that the file is an ncnn .param from a converter such as onnx2ncnn or pnnx, not truncated"

ParamValue = int | float | tuple[int | float, ...]


@dataclass(frozen=True)
class NcnnLayer:
    """One layer line. ``params`` maps ncnn parameter ids (array keys already decoded) to values."""

    type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: Mapping[int, ParamValue]
    line: int

    def int_param(self, key: int, default: int) -> int:
        value = self.params.get(key, default)
        if isinstance(value, tuple) or (isinstance(value, float) and not value.is_integer()):
            raise ModelFileError(
                f"ncnn {self.describe()}: parameter {key} should be an integer, not {value!r}",
                _PARAM_HINT,
            )
        return int(value)

    def float_param(self, key: int, default: float) -> float:
        value = self.params.get(key, default)
        if isinstance(value, tuple):
            raise ModelFileError(
                f"ncnn {self.describe()}: parameter {key} should be a number, not an array",
                _PARAM_HINT,
            )
        return float(value)

    def array_param(self, key: int) -> tuple[float, ...]:
        """The array parameter ``key`` as floats; empty when absent."""
        value = self.params.get(key, ())
        if not isinstance(value, tuple):
            raise ModelFileError(
                f"ncnn {self.describe()}: parameter {key} should be an array, not {value!r}",
                _PARAM_HINT,
            )
        return tuple(float(v) for v in value)

    def describe(self) -> str:
        return f"{self.type} {self.name} (line {self.line})"


@dataclass(frozen=True)
class NcnnGraph:
    """A parsed ``.param``: layers in file order (the order their weights sit in the ``.bin``)."""

    layers: tuple[NcnnLayer, ...]
    blob_count: int

    def type_summary(self) -> str:
        """E.g. ``"351 Convolution, 276 Concat, 276 Split, …"``, most frequent first."""
        counts = Counter(layer.type for layer in self.layers)
        return ", ".join(f"{n} {kind}" for kind, n in counts.most_common())


def read_ncnn_param(path: Path) -> NcnnGraph:
    """Read and parse an ncnn ``.param`` file. Raises ``ModelFileError`` if unreadable or malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ModelFileError(f"cannot read the ncnn .param file {path}: {e}", _PARAM_HINT) from e
    return parse_ncnn_param(text, str(path))


def parse_ncnn_param(text: str, source: str = "<.param>") -> NcnnGraph:
    """Parse ``.param`` text. Raises ``ModelFileError`` (message names ``source`` and the line) on any defect:
    wrong magic, counts that do not match, blobs read before (or without) being written, malformed params."""
    lines = [(i + 1, line.split()) for i, line in enumerate(text.splitlines())]
    lines = [(number, tokens) for number, tokens in lines if tokens]
    if not lines or lines[0][1] != [str(PARAM_MAGIC)]:
        found = " ".join(lines[0][1])[:40] if lines else "an empty file"
        raise ModelFileError(
            f"{source} is not an ncnn .param file: its first line should be the magic number {PARAM_MAGIC}, "
            f"found {found!r}",
            "binary .param.bin files and other formats are not supported; give the text .param",
        )
    if len(lines) < 2 or len(lines[1][1]) != 2 or not all(t.isdigit() for t in lines[1][1]):
        raise ModelFileError(
            f"{source}: the second line should hold two numbers, the layer count and the blob count",
            _PARAM_HINT,
        )
    layer_count, blob_count = (int(t) for t in lines[1][1])
    body = lines[2:]
    if len(body) != layer_count:
        raise ModelFileError(f"{source} declares {layer_count} layers but holds {len(body)} layer lines", _PARAM_HINT)
    layers: list[NcnnLayer] = []
    written: set[str] = set()
    for number, tokens in body:
        layer = _parse_layer(tokens, number, source)
        for blob in layer.inputs:
            if blob not in written:
                raise ModelFileError(
                    f"{source} line {number}: layer {layer.name} reads blob {blob!r}, which no earlier layer writes",
                    _PARAM_HINT,
                )
        for blob in layer.outputs:
            if blob in written:
                raise ModelFileError(
                    f"{source} line {number}: layer {layer.name} writes blob {blob!r} a second time",
                    _PARAM_HINT,
                )
            written.add(blob)
        layers.append(layer)
    if len(written) != blob_count:
        raise ModelFileError(f"{source} declares {blob_count} blobs but its layers write {len(written)}", _PARAM_HINT)
    return NcnnGraph(tuple(layers), blob_count)


def _parse_layer(tokens: list[str], number: int, source: str) -> NcnnLayer:
    where = f"{source} line {number}"
    if len(tokens) < 4 or not tokens[2].isdigit() or not tokens[3].isdigit():
        raise ModelFileError(f"{where}: a layer line starts with: type, name, input count, output count", _PARAM_HINT)
    kind, name = tokens[0], tokens[1]
    n_in, n_out = int(tokens[2]), int(tokens[3])
    if len(tokens) < 4 + n_in + n_out or any("=" in blob for blob in tokens[4 : 4 + n_in + n_out]):
        raise ModelFileError(
            f"{where}: layer {name} declares {n_in} inputs and {n_out} outputs but names fewer blobs",
            _PARAM_HINT,
        )
    blobs = tokens[4 : 4 + n_in + n_out]
    params: dict[int, ParamValue] = {}
    for item in tokens[4 + n_in + n_out :]:
        key, value = _parse_param(item, f"{where} (layer {name})")
        if key in params:
            raise ModelFileError(f"{where}: layer {name} sets parameter {key} twice", _PARAM_HINT)
        params[key] = value
    return NcnnLayer(
        type=kind,
        name=name,
        inputs=tuple(blobs[:n_in]),
        outputs=tuple(blobs[n_in:]),
        params=types.MappingProxyType(params),
        line=number,
    )


def _parse_param(item: str, where: str) -> tuple[int, ParamValue]:
    key_text, sep, value_text = item.partition("=")
    try:
        if not sep:
            raise ValueError("no '='")
        key = int(key_text)
        if key > _ARRAY_KEY_BASE:
            return key, _parse_scalar(value_text)
        count_text, *items = value_text.split(",")
        if int(count_text) != len(items):
            raise ValueError(f"the array announces {count_text} values but holds {len(items)}")
        return _ARRAY_KEY_BASE - key, tuple(_parse_scalar(v) for v in items)
    except ValueError as e:
        raise ModelFileError(f"{where}: malformed parameter {item!r}: {e}", _PARAM_HINT) from e


def _parse_scalar(text: str) -> int | float:
    if any(c in text for c in ".eE"):
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text} is not finite")
        return value
    return int(text)
