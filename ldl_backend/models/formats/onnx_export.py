"""ONNX export with dynamic height and width on input and output, checked against PyTorch before it is kept."""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.jit._trace import TracerWarning

from ldl_backend.errors import ExportError
from ldl_backend.models.loading import LoadedModel
from ldl_backend.storage import write_atomically

INPUT_NAME = "input"
OUTPUT_NAME = "output"
DEFAULT_OPSET = 17


@dataclass(frozen=True)
class OnnxCheck:
    """The largest |ONNX Runtime − PyTorch| difference seen for each checked input size (H, W)."""

    max_abs_difference: dict[tuple[int, int], float]


def export_onnx(
    model: LoadedModel,
    destination: Path,
    *,
    opset: int = DEFAULT_OPSET,
    check_sizes: tuple[tuple[int, int], ...] = ((32, 32), (40, 56)),
    tolerance: float = 1e-4,
) -> OnnxCheck:
    """Export ``model`` to ``destination`` (fp32, NCHW, names ``input``/``output``, dynamic H and W).

    The exported graph takes any H and W that are multiples of the model's ``size_multiple`` (the engine pads
    tiles to it; SwinIR's own padding loop is not exported).

    The file is first written to a scratch folder and run with ONNX Runtime at each of ``check_sizes`` (rounded
    up to the model's size multiple); only if every output is within ``tolerance`` of PyTorch is it moved to
    ``destination``. Raises ``ExportError`` (with the measured difference) otherwise, or when onnx/onnxruntime
    are not installed.
    """
    try:
        import onnxruntime
    except ImportError as error:
        raise ExportError("ONNX export needs onnxruntime", "pip install 'ldl-studio[onnx]'") from error
    descriptor, network = model.descriptor, model.network.eval()
    multiple = descriptor.size_multiple
    sizes = [(_round_up(h, multiple), _round_up(w, multiple)) for h, w in check_sizes]
    example = torch.rand(1, descriptor.in_channels, *sizes[0])
    with tempfile.TemporaryDirectory(prefix="ldl-onnx-") as scratch:
        scratch_file = Path(scratch) / "model.onnx"
        try:
            with warnings.catch_warnings():
                # The TorchScript exporter is deprecated upstream but needs no onnxscript and keeps the nets'
                # shape arithmetic dynamic; its deprecation notice is not the user's concern.
                warnings.simplefilter("ignore", DeprecationWarning)
                # Tracing bakes Python-side shape checks in; the check below runs the file at other sizes.
                warnings.simplefilter("ignore", TracerWarning)
                torch.onnx.export(
                    network,
                    (example,),
                    str(scratch_file),
                    input_names=[INPUT_NAME],
                    output_names=[OUTPUT_NAME],
                    opset_version=opset,
                    dynamo=False,
                    dynamic_axes={
                        INPUT_NAME: {0: "batch", 2: "height", 3: "width"},
                        OUTPUT_NAME: {0: "batch", 2: "out_height", 3: "out_width"},
                    },
                )
        except Exception as error:  # the exporter raises many unrelated types; all mean "could not export"
            raise ExportError(f"PyTorch could not export {descriptor.summary()} to ONNX: {error}", "") from error
        session = onnxruntime.InferenceSession(str(scratch_file), providers=["CPUExecutionProvider"])
        differences: dict[tuple[int, int], float] = {}
        generator = torch.Generator().manual_seed(0)
        for height, width in sizes:
            sample = torch.rand(1, descriptor.in_channels, height, width, generator=generator)
            with torch.inference_mode():
                expected = network(sample).numpy()
            (actual,) = session.run([OUTPUT_NAME], {INPUT_NAME: sample.numpy()})
            actual = np.asarray(actual)
            if actual.shape != expected.shape:
                raise ExportError(
                    f"the exported model gives shape {actual.shape} for a {height}×{width} input, "
                    f"PyTorch gives {expected.shape}",
                    "report this model; the export does not keep dynamic sizes",
                )
            differences[(height, width)] = float(np.abs(actual - expected).max())
        worst = max(differences.values())
        if worst > tolerance:
            raise ExportError(
                f"the exported model differs from PyTorch by up to {worst:.2e} (allowed {tolerance:.0e})",
                "try another --opset",
            )
        write_atomically(destination, scratch_file.read_bytes())
    return OnnxCheck(differences)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
