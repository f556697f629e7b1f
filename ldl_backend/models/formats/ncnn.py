"""Import of ncnn models (``.param`` + ``.bin``) as PyTorch state dicts in BasicSR/Real-ESRGAN's key layout.

Two graphs are recognised, by their whole topology (layer order, data flow, shapes, fused activations):
RRDBNet ×4 (Real-ESRGAN x4plus, x4plus-anime) and SRVGGNetCompact (realesr-animevideov3, general-x4v3).
A trailing ``Interp`` after the network is reported as ``output_resize``, not folded into the weights: the
animevideov3 ``UP2X``/``UP3X`` files are the ×4 network followed by a bicubic resize by 0.5 / 0.75, with the
same ``.bin`` as ``UP4X``.

``.bin`` layout (ncnn's ModelBin, little-endian, no header, weights in layer order): a Convolution stores its
``6=`` weights behind a 4-byte tag (``0x01306B47``: fp16, padded to 4 bytes; ``0`` or ``0x0002C056``: fp32;
``0x000D4B38``: int8, refused), laid out out×in×kh×kw as in PyTorch, then, if ``5=1``, ``0=`` fp32 biases
with no tag; a PReLU stores ``0=`` fp32 slopes with no tag. The file must be consumed exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from ldl_backend.archs.rrdbnet import RRDBNetConfig
from ldl_backend.archs.srvgg import Activation, SRVGGNetCompactConfig
from ldl_backend.errors import ModelFileError
from ldl_backend.models.formats.ncnn_param import NcnnGraph, NcnnLayer, read_ncnn_param

# The .param parser's public names (NcnnGraph, NcnnLayer, parse_ncnn_param, …) live in ncnn_param.
__all__ = ["NcnnImport", "NcnnResize", "import_ncnn", "load_ncnn", "read_ncnn_weights"]

_FP16_TAG = 0x01306B47
_INT8_TAG = 0x000D4B38
_FP32_TAGS = (0x00000000, 0x0002C056)
_WEIGHTLESS = frozenset({"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle", "ReLU"})
_RESIZE_MODES = {1: "nearest", 2: "bilinear", 3: "bicubic"}
_NO_ACT: tuple[int, tuple[float, ...]] = (0, ())
_LEAKY_02: tuple[int, tuple[float, ...]] = (2, (0.2,))
_BIN_HINT = "give the .param and .bin of the same model, both complete (re-download them if unsure)"
_GRAPH_HINT = (
    "the ncnn importer reads Real-ESRGAN's RRDBNet ×4 and SRVGGNetCompact exports; "
    "for other networks, load the original .pth or .safetensors instead"
)

FloatArray = npt.NDArray[np.float32]
_Config = RRDBNetConfig | SRVGGNetCompactConfig


@dataclass(frozen=True)
class NcnnResize:
    """A resize that the ncnn graph applies to the network's output (``factor`` < 1 shrinks)."""

    mode: str  # "nearest", "bilinear" or "bicubic" (ncnn's: a = -0.75, half-pixel centres, edge clamped)
    factor: float


@dataclass(frozen=True)
class NcnnImport:
    """An imported model: fp32 CPU tensors that load strict into the architecture ``config`` describes."""

    state_dict: dict[str, torch.Tensor]
    config: _Config
    output_resize: NcnnResize | None


def load_ncnn(param_path: Path, bin_path: Path) -> dict[str, torch.Tensor]:
    """Import an ncnn model as a state dict (fp32, CPU) with BasicSR keys (``conv_first.weight``,
    ``body.{i}.rdb{k}.conv{j}.weight`` … or SRVGG's ``body.{n}.weight``).

    ``import_ncnn`` also returns the hyper-parameters and any output resize. Raises ``ModelFileError``.
    """
    return import_ncnn(param_path, bin_path).state_dict


def import_ncnn(param_path: Path, bin_path: Path) -> NcnnImport:
    """Parse the ``.param``, recognise the network, read the ``.bin`` and build the state dict.

    Raises ``ModelFileError`` when either file is unreadable or malformed, when the graph is neither network
    (the message lists the layer types found and why each network did not match), when the ``.bin`` does not
    have exactly the bytes the ``.param`` needs, or when the weights are int8-quantised.
    """
    graph = read_ncnn_param(param_path)
    plan, config, resize = _match(graph, str(param_path))
    try:
        data = bin_path.read_bytes()
    except OSError as e:
        raise ModelFileError(f"cannot read the ncnn .bin file {bin_path}: {e}", _BIN_HINT) from e
    weights = read_ncnn_weights(graph, data, str(bin_path))
    state: dict[str, torch.Tensor] = {}
    for prefix, layer in plan:
        arrays = weights[layer.name]
        if layer.type == "Convolution":
            out, k = layer.int_param(0, 0), layer.int_param(1, 0)
            state[f"{prefix}.weight"] = torch.from_numpy(arrays[0].reshape(out, -1, k, k))
            state[f"{prefix}.bias"] = torch.from_numpy(arrays[1])
        else:
            state[f"{prefix}.weight"] = torch.from_numpy(arrays[0])
    return NcnnImport(state, config, resize)


def read_ncnn_weights(graph: NcnnGraph, data: bytes, source: str = "<.bin>") -> dict[str, list[FloatArray]]:
    """Read a ``.bin`` as the layers of ``graph`` require, keyed by layer name: a Convolution gives
    ``[weight, bias]`` (flat float32; bias only with ``5=1``), a PReLU ``[slopes]``.

    Raises ``ModelFileError`` when the byte count differs from what the layers need, on an unknown or int8
    tag, or on a layer type whose storage this reader does not know.
    """
    reader = _BinReader(graph, data, source)
    weights: dict[str, list[FloatArray]] = {}
    for layer in graph.layers:
        if layer.type == "Convolution":
            if layer.int_param(8, 0) != 0:
                raise _int8_error(layer, source)
            arrays = [reader.tagged(layer.int_param(6, 0), layer)]
            if layer.int_param(5, 0):
                arrays.append(reader.raw(layer.int_param(0, 0), layer))
            weights[layer.name] = arrays
        elif layer.type == "PReLU":
            weights[layer.name] = [reader.raw(layer.int_param(0, 0), layer)]
        elif layer.type not in _WEIGHTLESS:
            raise ModelFileError(
                f"{source}: cannot read the weights of {layer.describe()}: its ncnn storage is not supported",
                _GRAPH_HINT,
            )
    if reader.pos != len(data):
        raise ModelFileError(
            f"the .param's layers do not match the .bin: expected {reader.pos} bytes, {source} has {len(data)}",
            _BIN_HINT,
        )
    return weights


class _BinReader:
    def __init__(self, graph: NcnnGraph, data: bytes, source: str) -> None:
        self.graph, self.data, self.source, self.pos = graph, data, source, 0

    def _claim(self, nbytes: int, layer: NcnnLayer) -> int:
        start, self.pos = self.pos, self.pos + nbytes
        if nbytes < 0 or self.pos > len(self.data):
            raise ModelFileError(
                f"the .param's layers do not match the .bin: expected at least {self.pos} bytes "
                f"(reading {layer.describe()}), {self.source} has {len(self.data)}",
                _BIN_HINT,
            )
        return start

    def raw(self, count: int, layer: NcnnLayer) -> FloatArray:
        start = self._claim(4 * count, layer)
        return np.frombuffer(self.data, "<f4", count, start).astype(np.float32)

    def tagged(self, count: int, layer: NcnnLayer) -> FloatArray:
        (tag,) = np.frombuffer(self.data, "<u4", 1, self._claim(4, layer)).tolist()
        if tag == _FP16_TAG:
            start = self._claim((2 * count + 3) // 4 * 4, layer)
            return np.frombuffer(self.data, "<f2", count, start).astype(np.float32)
        if tag in _FP32_TAGS:
            return self.raw(count, layer)
        if tag == _INT8_TAG:
            raise _int8_error(layer, self.source)
        raise ModelFileError(
            f"the .param's layers do not match the .bin: expected {self.needed(2)} bytes "
            f"({self.needed(4)} with fp32 weights), {self.source} has {len(self.data)}: the weights of "
            f"{layer.describe()} start at byte {self.pos - 4} with 0x{tag:08X}, "
            "not an fp16 or fp32 storage tag",
            _BIN_HINT + "; 8-bit lookup-table (quantize_level 256) models are not supported",
        )

    def needed(self, weight_bytes: int) -> int:
        """Size of a .bin for this graph whose tagged weights all take ``weight_bytes`` each (2: fp16)."""
        total = 0
        for layer in self.graph.layers:
            if layer.type == "Convolution":
                total += 4 + (weight_bytes * layer.int_param(6, 0) + 3) // 4 * 4
                total += 4 * layer.int_param(0, 0) * bool(layer.int_param(5, 0))
            elif layer.type == "PReLU":
                total += 4 * layer.int_param(0, 0)
        return total


def _int8_error(layer: NcnnLayer, source: str) -> ModelFileError:
    return ModelFileError(
        f"{source}: {layer.describe()} holds int8-quantised weights, which cannot be imported",
        "use the fp16 or fp32 ncnn export of the model (or its .pth)",
    )


# ---- topology ---------------------------------------------------------------------------------------------

_Plan = list[tuple[str, NcnnLayer]]


class _NoMatchError(Exception):
    """Internal: the graph is not the network being matched; the text says where and why."""


class _Cursor:
    """Walks the graph's layers in order, Input and Split skipped (a Split's outputs alias its input)."""

    def __init__(self, graph: NcnnGraph) -> None:
        self.alias: dict[str, str] = {}
        self.layers: list[NcnnLayer] = []
        inputs = [layer for layer in graph.layers if layer.type == "Input"]
        if len(inputs) != 1 or len(inputs[0].outputs) != 1:
            raise _NoMatchError(f"expected one Input layer with one blob, found {len(inputs)} Input layers")
        self.data = inputs[0].outputs[0]
        for layer in graph.layers:
            if layer.type == "Split" and len(layer.inputs) == 1:
                self.alias.update((blob, self.source(layer.inputs[0])) for blob in layer.outputs)
            elif layer.type != "Input":
                self.layers.append(layer)
        self.pos = 0

    def source(self, blob: str) -> str:
        return self.alias.get(blob, blob)

    def peek(self, ahead: int = 0) -> str | None:
        index = self.pos + ahead
        return self.layers[index].type if index < len(self.layers) else None

    def take(self, kind: str, inputs: Sequence[str], any_order: bool = False) -> NcnnLayer:
        if self.pos >= len(self.layers):
            raise _NoMatchError(f"the graph ends where a {kind} layer was expected")
        layer = self.layers[self.pos]
        if layer.type != kind:
            raise _NoMatchError(f"expected a {kind} layer, found {layer.describe()}")
        got = [self.source(blob) for blob in layer.inputs]
        if (sorted(got) != sorted(inputs)) if any_order else (got != list(inputs)):
            raise _NoMatchError(f"{layer.describe()} reads blobs {got}, expected {list(inputs)}")
        if len(layer.outputs) != 1:
            raise _NoMatchError(f"{layer.describe()} writes {len(layer.outputs)} blobs, expected 1")
        self.pos += 1
        return layer


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-5) for x, y in zip(a, b, strict=True))


def _conv(
    cur: _Cursor,
    source: str,
    out: int | None = None,
    in_ch: int | None = None,
    act: tuple[int, tuple[float, ...]] | None = _NO_ACT,
) -> tuple[NcnnLayer, int, int]:
    """Take a 3×3, stride 1, pad 1, biased Convolution reading ``source``; returns (layer, in, out)."""
    layer = cur.take("Convolution", [source])
    p = layer.int_param
    num_out, k = p(0, 0), p(1, 0)
    pad = p(4, 0)
    geometry = (k, p(11, k), p(2, 1), p(12, p(2, 1)), p(3, 1), p(13, p(3, 1)), pad, p(14, pad), p(15, pad))
    if geometry != (3, 3, 1, 1, 1, 1, 1, 1, 1) or p(16, p(14, pad)) != 1 or p(5, 0) != 1 or p(19, 0) != 0:
        raise _NoMatchError(f"{layer.describe()} is not a biased 3×3 convolution with stride 1 and padding 1")
    weight_size = p(6, 0)
    if num_out < 1 or weight_size < 1 or weight_size % (num_out * 9):
        raise _NoMatchError(f"{layer.describe()}: weight size {weight_size} is not a multiple of 9×{num_out}")
    found_in = weight_size // (num_out * 9)
    if (out is not None and num_out != out) or (in_ch is not None and found_in != in_ch):
        raise _NoMatchError(f"{layer.describe()} maps {found_in}→{num_out} channels, expected {in_ch}→{out}")
    found_act = (p(9, 0), layer.array_param(10))
    if act is not None and (found_act[0] != act[0] or not _close(found_act[1], act[1])):
        raise _NoMatchError(f"{layer.describe()} has fused activation {found_act}, expected {act}")
    return layer, found_in, num_out


def _interp(cur: _Cursor, source: str, modes: Sequence[int]) -> tuple[NcnnLayer, int, float]:
    layer = cur.take("Interp", [source])
    mode, fy, fx = layer.int_param(0, 0), layer.float_param(1, 1.0), layer.float_param(2, 1.0)
    fixed = (layer.int_param(3, 0), layer.int_param(4, 0), layer.int_param(5, 0), layer.int_param(6, 0))
    if mode not in modes or fy != fx or fixed != (0, 0, 0, 0):
        raise _NoMatchError(f"{layer.describe()} is not an equal-factor resize of a supported kind")
    return layer, mode, fx


def _add(cur: _Cursor, a: str, b: str) -> str:
    layer = cur.take("BinaryOp", [a, b], any_order=True)
    if layer.int_param(0, 0) != 0 or layer.int_param(1, 0) != 0:
        raise _NoMatchError(f"{layer.describe()} is not a plain addition of two blobs")
    return layer.outputs[0]


def _residual(cur: _Cursor, branch: str, skip: str) -> str:
    """Eltwise sum 0.2·branch + 1·skip (BasicSR's RDB/RRDB residual)."""
    layer = cur.take("Eltwise", [branch, skip], any_order=True)
    coeffs = layer.array_param(1)
    scales = dict(zip((cur.source(b) for b in layer.inputs), coeffs, strict=False))
    residual = len(coeffs) == 2 and _close((scales[branch], scales[skip]), (0.2, 1.0))
    if layer.int_param(0, 0) != 1 or not residual:
        raise _NoMatchError(f"{layer.describe()} is not the residual sum 0.2·branch + input")
    return layer.outputs[0]


def _match_rrdbnet(cur: _Cursor, plan: _Plan) -> tuple[RRDBNetConfig, str]:
    first, in_ch, feat = _conv(cur, cur.data)
    plan.append(("conv_first", first))
    trunk = x = first.outputs[0]
    grow: int | None = None
    num_block = 0
    while cur.peek() == "Convolution" and cur.peek(1) == "Concat":
        block_in = x
        for k in (1, 2, 3):
            feats, src = [x], x
            for j in (1, 2, 3, 4):
                conv, _, grow = _conv(cur, src, grow, feat + (j - 1) * (grow or 0), _LEAKY_02)
                plan.append((f"body.{num_block}.rdb{k}.conv{j}", conv))
                feats.append(conv.outputs[0])
                src = cur.take("Concat", feats).outputs[0]
            conv5, _, _ = _conv(cur, src, feat, feat + 4 * (grow or 0))
            plan.append((f"body.{num_block}.rdb{k}.conv5", conv5))
            x = _residual(cur, conv5.outputs[0], x)
        x = _residual(cur, x, block_in)
        num_block += 1
    if num_block == 0 or grow is None:
        raise _NoMatchError("no residual-in-residual dense block follows the first convolution")
    body, _, _ = _conv(cur, x, feat, feat)
    plan.append(("conv_body", body))
    x = _add(cur, trunk, body.outputs[0])
    for name in ("conv_up1", "conv_up2"):
        up, _, factor = _interp(cur, x, [1])
        if factor != 2.0:
            raise _NoMatchError(f"{up.describe()} scales by {factor}, expected 2")
        conv, _, _ = _conv(cur, up.outputs[0], feat, feat, _LEAKY_02)
        plan.append((name, conv))
        x = conv.outputs[0]
    hr, _, _ = _conv(cur, x, feat, feat, _LEAKY_02)
    last, _, out_ch = _conv(cur, hr.outputs[0], None, feat)
    plan += [("conv_hr", hr), ("conv_last", last)]
    config = RRDBNetConfig(in_ch, out_ch, 4, feat, num_block, grow)
    return config, last.outputs[0]


def _srvgg_activation(cur: _Cursor, conv: NcnnLayer, feat: int) -> tuple[Activation, str, NcnnLayer | None]:
    blob = conv.outputs[0]
    fused, params = conv.int_param(9, 0), conv.array_param(10)
    if fused == 1 and not params:
        return Activation.RELU, blob, None
    if fused == 2 and _close(params, (0.1,)):
        return Activation.LEAKY_RELU, blob, None
    if fused == 0 and cur.peek() == "PReLU":
        layer = cur.take("PReLU", [blob])
        if layer.int_param(0, 0) != feat:
            raise _NoMatchError(f"{layer.describe()} has {layer.int_param(0, 0)} slopes, expected {feat}")
        return Activation.PRELU, layer.outputs[0], layer
    if fused == 0 and cur.peek() == "ReLU":
        layer = cur.take("ReLU", [blob])
        slope = layer.float_param(0, 0.0)
        if slope in (0.0, 0.1):
            return (Activation.RELU if slope == 0.0 else Activation.LEAKY_RELU), layer.outputs[0], None
    raise _NoMatchError(f"no PReLU, ReLU or LeakyReLU(0.1) follows {conv.describe()}")


def _match_srvgg(cur: _Cursor, plan: _Plan) -> tuple[SRVGGNetCompactConfig, str]:
    conv, in_ch, feat = _conv(cur, cur.data, act=None)
    kind: Activation | None = None
    n = 0
    while True:
        plan.append((f"body.{n}", conv))
        if cur.peek() == "PixelShuffle":
            break
        found, x, prelu = _srvgg_activation(cur, conv, feat)
        if kind is not None and kind is not found:
            raise _NoMatchError(f"{conv.describe()} is followed by {found.value}, not {kind.value}")
        kind = found
        if prelu is not None:
            plan.append((f"body.{n + 1}", prelu))
        n += 2
        conv, _, _ = _conv(cur, x, None, feat, act=None)
    if kind is None or conv.int_param(9, 0) != 0:
        raise _NoMatchError(f"{conv.describe()} should be the last convolution, without an activation")
    shuffle = cur.take("PixelShuffle", [conv.outputs[0]])
    scale = shuffle.int_param(0, 1)
    if shuffle.int_param(1, 0) != 0 or conv.int_param(0, 0) != in_ch * scale * scale:
        raise _NoMatchError(f"{shuffle.describe()} ×{scale} does not give {in_ch} channels")
    up, _, factor = _interp(cur, cur.data, [1])
    if factor != scale:
        raise _NoMatchError(f"{up.describe()} scales the input by {factor}, the network by {scale}")
    out = _add(cur, shuffle.outputs[0], up.outputs[0])
    config = SRVGGNetCompactConfig(in_ch, in_ch, feat, n // 2 - 1, scale, kind)
    return config, out


def _match(graph: NcnnGraph, source: str) -> tuple[_Plan, _Config, NcnnResize | None]:
    failures: list[tuple[int, str, str]] = []
    for name, matcher in (("RRDBNet", _match_rrdbnet), ("SRVGGNetCompact", _match_srvgg)):
        plan: _Plan = []
        cur: _Cursor | None = None
        try:
            cur = _Cursor(graph)
            config, out = matcher(cur, plan)
            resize = None
            if cur.peek() == "Interp":
                _, mode, factor = _interp(cur, out, list(_RESIZE_MODES))
                resize = NcnnResize(_RESIZE_MODES[mode], factor)
            if cur.pos != len(cur.layers):
                raise _NoMatchError(f"layers follow the network, from {cur.layers[cur.pos].describe()}")
            return plan, config, resize
        except (_NoMatchError, ValueError) as e:
            failures.append((cur.pos if cur else 0, name, str(e)))
    closest = max(failures)[1]
    reasons = "; ".join(f"not {name}: {why}" for _, name, why in failures)
    raise ModelFileError(
        f"{source} is neither an RRDBNet nor an SRVGGNetCompact graph (closest: {closest}); it holds "
        f"{graph.type_summary()}; {reasons}",
        _GRAPH_HINT,
    )
