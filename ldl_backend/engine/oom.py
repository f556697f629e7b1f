"""Recognising out-of-memory errors, by type wherever the runtime gives one."""

from __future__ import annotations

import torch

# MPS raises a plain RuntimeError whose message starts like this (PyTorch 2.x); there is no dedicated type.
_MPS_OOM_PREFIX = "MPS backend out of memory"


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA's ``torch.OutOfMemoryError``, MPS's out-of-memory RuntimeError, ONNX Runtime's allocation
    failures and a host ``MemoryError``."""
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    if isinstance(error, RuntimeError) and str(error).startswith(_MPS_OOM_PREFIX):
        return True
    # onnxruntime's Fail exception carries "Failed to allocate memory" for BFC arena exhaustion.
    return type(error).__name__ in ("RuntimeException", "Fail") and "allocate memory" in str(error)


def release_cached_memory(device: torch.device) -> None:
    """Return the allocator's cached blocks after an OOM so a smaller tile can use them."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()
