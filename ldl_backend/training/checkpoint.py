"""Training checkpoints: one file holding everything a run needs to continue exactly, written atomically.

The file is a ``torch.save`` dictionary of tensors and plain values (read back with ``weights_only=True``, so a
checkpoint cannot run code): G, EMA G, D, both optimisers, schedulers and gradient scalers, the pair queue, the
RNG states of torch (CPU and CUDA), NumPy and Python, the iteration (the data stream restarts at
``iteration × batch``) and the config as TOML text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ldl_backend.errors import LdlError
from ldl_backend.storage import atomic_output

CHECKPOINT_FORMAT = 1
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(LdlError):
    """A checkpoint is missing, damaged or from another version of the trainer."""

    code = "bad_checkpoint"


@dataclass(frozen=True)
class RngStates:
    """The global random states a training step may draw from (PyTorch's CPU and CUDA, NumPy's, Python's)."""

    torch_cpu: torch.Tensor
    torch_cuda: tuple[torch.Tensor, ...]
    numpy: dict[str, Any]
    python: tuple[Any, ...]

    @classmethod
    def capture(cls) -> RngStates:
        kind, key, position, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
        numpy_state = {
            "kind": str(kind),
            "key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
        cuda = tuple(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else ()
        return cls(torch.get_rng_state(), cuda, numpy_state, random.getstate())

    def restore(self) -> None:
        torch.set_rng_state(self.torch_cpu)
        if self.torch_cuda and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(list(self.torch_cuda))
        state = self.numpy
        key = state["key"].numpy().astype(np.uint32)
        np.random.set_state((state["kind"], key, state["position"], state["has_gauss"], state["cached_gaussian"]))
        random.setstate(self.python)

    def as_dict(self) -> dict[str, Any]:
        return {"torch": self.torch_cpu, "cuda": list(self.torch_cuda), "numpy": self.numpy, "python": self.python}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> RngStates:
        return cls(state["torch"], tuple(state["cuda"]), state["numpy"], _as_tuple(state["python"]))


def _as_tuple(value: Any) -> Any:
    # Python's random state is nested tuples; keep them tuples whatever the round trip made of them.
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuple(item) for item in value)  # pyright: ignore[reportUnknownVariableType]
    return value


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (plus the format number) to ``path`` atomically: the old file stays until the new is whole."""
    with atomic_output(path) as stream:
        torch.save({"format": CHECKPOINT_FORMAT, **state}, stream)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint`` (on the CPU). Raises ``CheckpointError``."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}", "start without --resume, or give the run folder (--out)")
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for damaged or foreign files
        raise CheckpointError(
            f"{path} is not a readable checkpoint: {error}", "restart the run without --resume"
        ) from error
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise CheckpointError(f"{path} is not a checkpoint of this trainer", "restart the run without --resume")
    return state
