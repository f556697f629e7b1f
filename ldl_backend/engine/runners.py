"""Runners turn a batch of float tiles into upscaled tiles; the engine knows nothing else about the runtime.

Contract: ``run(batch)`` takes N×C×h×w float32 in [0, 1] (h, w multiples of the model's size multiple) and
returns N×C×(h·s)×(w·s) float32 clamped to [0, 1]. Out-of-memory errors propagate unchanged (the engine
recognises them by type and shrinks the tile).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch.nn import functional as F

from ldl_backend.engine.device import ComputeTarget
from ldl_backend.engine.oom import release_cached_memory
from ldl_backend.errors import LdlError
from ldl_backend.models.descriptor import ModelDescriptor


class TileRunner(Protocol):
    scale: int
    description: str

    def run(self, batch: np.ndarray) -> np.ndarray: ...

    def release_memory(self) -> None: ...


BlockCallback = Callable[[float], None]


@runtime_checkable
class SteppedRunner(Protocol):
    """A runner that can call back between the blocks of its network, inside one tile."""

    def block_steps(self, on_block: BlockCallback) -> contextlib.AbstractContextManager[None]: ...


@runtime_checkable
class DirectRunner(Protocol):
    """A runner that can convert its output to the image's dtype itself and write it into the output array."""

    def run_into(self, batch: np.ndarray, out: np.ndarray) -> None: ...


# Output dtypes ``run_into`` writes: float32, and uint8 rounded exactly as ``assembly.to_dtype`` rounds.
DIRECT_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))


class TorchRunner:
    """PyTorch on CPU, CUDA or MPS, in fp32 or under autocast (fp16/bf16), channels-last for convolutional nets."""

    def __init__(self, network: torch.nn.Module, descriptor: ModelDescriptor, target: ComputeTarget) -> None:
        self.scale = descriptor.scale
        self._target = target
        # Convolution kernels (oneDNN on CPU, cuDNN) are faster on NHWC; attention nets' specs turn it off.
        self._channels_last = descriptor.spec.channels_last
        network = network.to(target.device)
        if self._channels_last:
            network = network.to(memory_format=torch.channels_last)  # pyright: ignore[reportCallIssue]
        self._network = network.eval()
        self._blocks = repeated_blocks(network)
        self.description = f"PyTorch {target.device} {target.precision.value}"

    @contextlib.contextmanager
    def block_steps(self, on_block: BlockCallback) -> Iterator[None]:
        """Within the block, every run calls ``on_block(share of the run done)`` after each of the network's repeated
        blocks, so one long tile (a whole image on the CPU takes minutes) reports progress and can be cancelled
        (``on_block`` may raise) between blocks. The share counts what follows the blocks as one more block, so it
        stays below 1. The hooks live only this long: the network is shared."""
        steps = len(self._blocks) + 1
        handles = [
            block.register_forward_hook(functools.partial(_after_block, on_block, (index + 1) / steps))
            for index, block in enumerate(self._blocks)
        ]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def run(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self._forward(batch).cpu().numpy()

    def run_into(self, batch: np.ndarray, out: np.ndarray) -> None:
        """One image (a 1×C×h×w batch) into ``out`` (H×W×C, H ≤ h·s, W ≤ w·s, a ``DIRECT_DTYPES`` dtype; any
        strides): the result is cropped, laid out and rounded where it was computed, so a GPU sends back a quarter
        of the bytes (uint8 against float32) and the CPU skips the float passes over the whole output. The values
        equal ``run`` followed by ``to_dtype``: the same float32 multiply, round half to even and clip."""
        if out.dtype not in DIRECT_DTYPES:
            raise ValueError(f"run_into writes {[str(d) for d in DIRECT_DTYPES]}, not {out.dtype}")
        height, width = out.shape[:2]
        with torch.inference_mode():
            pixels = self._forward(batch)[0, :, :height, :width].permute(1, 2, 0)
            if out.dtype == np.uint8:
                pixels = pixels.mul_(255.0).round_().clamp_(0.0, 255.0).to(torch.uint8)
            torch.from_numpy(out).copy_(pixels)

    def _forward(self, batch: np.ndarray) -> torch.Tensor:
        """The network's output on the device: float32 clamped to [0, 1] (call under inference mode)."""
        tensor = torch.from_numpy(batch).to(self._target.device)
        if self._channels_last:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        dtype = self._target.autocast_dtype
        with torch.autocast(self._target.device.type, dtype=dtype, enabled=dtype is not None):
            return self._network(tensor).float().clamp_(0.0, 1.0)

    def release_memory(self) -> None:
        release_cached_memory(self._target.device)


def _after_block(on_block: BlockCallback, share: float, _module: object, _inputs: object, _output: object) -> None:
    on_block(share)


def repeated_blocks(network: torch.nn.Module) -> list[torch.nn.Module]:
    """The children of the network's longest ``Sequential``/``ModuleList`` (RRDBNet's 23 RRDBs, the compact model's
    layers, SwinIR's stages): steps of about equal time through most of its work. Empty where there are fewer than 4."""
    containers = [m for m in network.modules() if isinstance(m, torch.nn.Sequential | torch.nn.ModuleList)]
    longest = max(containers, key=len, default=None)
    return list(longest) if longest is not None and len(longest) >= 4 else []


class ResizeRunner:
    """A classical bicubic upscale through the same tiling (used for alpha and for comparisons)."""

    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.description = f"bicubic ×{scale}"

    def run(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            tensor = torch.from_numpy(batch)
            result = F.interpolate(tensor, scale_factor=self.scale, mode="bicubic", align_corners=False)
            return result.clamp_(0.0, 1.0).numpy()

    def release_memory(self) -> None:
        pass


ONNX_PROVIDERS = {
    "cpu": ("CPUExecutionProvider",),
    "cuda": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "directml": ("DmlExecutionProvider", "CPUExecutionProvider"),
    "coreml": ("CoreMLExecutionProvider", "CPUExecutionProvider"),
}


class OnnxRunner:
    """ONNX Runtime (fp32) on the CPU, or CUDA/DirectML/CoreML when those providers are installed."""

    def __init__(self, model_file: Path, scale: int, device: str = "cpu", threads: int | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise LdlError("the ONNX backend needs onnxruntime", "pip install 'ldl-studio[onnx]'") from error
        wanted = ONNX_PROVIDERS.get(device)
        if wanted is None:
            raise LdlError(f"unknown ONNX device {device!r}", f"use one of {', '.join(ONNX_PROVIDERS)}")
        available = set(onnxruntime.get_available_providers())
        if wanted[0] not in available:
            raise LdlError(
                f"ONNX Runtime has no {wanted[0]} here (available: {', '.join(sorted(available))})",
                "install the onnxruntime build for that device, or use --device cpu",
            )
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(model_file), options, providers=[p for p in wanted if p in available]
        )
        self._input = self._session.get_inputs()[0].name
        self.scale = scale
        self.description = f"ONNX Runtime {wanted[0].removesuffix('ExecutionProvider')} fp32"

    def run(self, batch: np.ndarray) -> np.ndarray:
        (result,) = self._session.run(None, {self._input: np.ascontiguousarray(batch, dtype=np.float32)})
        return np.clip(np.asarray(result, dtype=np.float32), 0.0, 1.0)

    def release_memory(self) -> None:
        pass
