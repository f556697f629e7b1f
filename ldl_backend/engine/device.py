"""Device and precision are chosen here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ldl_backend.errors import LdlError
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_client.options import Precision


@dataclass(frozen=True)
class ComputeTarget:
    device: torch.device
    precision: Precision

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {Precision.FP16: torch.float16, Precision.BF16: torch.bfloat16}.get(self.precision)


def cpu_has_native_bf16() -> bool:
    """True when oneDNN has native bf16 kernels on this CPU (emulated bf16 would be slower than fp32)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def best_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> tuple[str, ...]:
    """The devices this machine can run models on, as ``choose_target`` accepts them: ``cpu`` first, then
    ``cuda:0``, ``cuda:1``… and ``mps`` where present. Asks the drivers each time (callers keep the answer)."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return tuple(devices)


def choose_target(
    descriptor: ModelDescriptor, device: str | None = None, precision: Precision | None = None
) -> ComputeTarget:
    """Validate a device/precision request against the hardware and the model.

    Default: the best device; fp16 on CUDA/MPS when the model supports it; bf16 on CPUs with native bf16
    (AVX-512 BF16 or AMX: ~2.7× fp32 for RRDBNet, within a few 8-bit levels of it), fp32 on other CPUs.
    Raises ``LdlError`` with a hint for impossible requests (fp16 on the CPU, CUDA without a GPU…).
    """
    try:
        chosen = torch.device(device) if device else best_device()
    except RuntimeError as error:
        raise LdlError(f"unknown device {device!r}", "use cpu, cuda, cuda:N or mps") from error
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise LdlError("CUDA was requested but no CUDA GPU is available", "use --device cpu")
    if chosen.type == "mps" and not torch.backends.mps.is_available():
        raise LdlError("MPS was requested but is not available", "use --device cpu")
    if precision is None:
        if chosen.type != "cpu":
            precision = Precision.FP16 if descriptor.supports_fp16 else Precision.FP32
        else:
            precision = Precision.BF16 if cpu_has_native_bf16() and descriptor.supports_bf16 else Precision.FP32
    if precision is Precision.FP16 and chosen.type == "cpu":
        raise LdlError("fp16 is not supported on the CPU", "use --precision bf16 (fast on recent CPUs) or fp32")
    if precision is Precision.FP16 and not descriptor.supports_fp16:
        raise LdlError(f"{descriptor.architecture} is unreliable in fp16", "use --precision bf16 or fp32")
    return ComputeTarget(chosen, precision)
