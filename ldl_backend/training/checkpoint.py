"""Training checkpoints: one file holding everything a run needs to continue exactly, written atomically.

The file is a ``torch.save`` dictionary of tensors and plain values (read back with ``weights_only=True``, so a
checkpoint cannot run code): G, EMA G, D, both optimisers, schedulers and gradient scalers, the iteration and the
sample position (where the data stream continues), the config as TOML text, and, per process of the run
(``processes``, in rank order, with ``world_size``), what differs between processes: the pair queue and the RNG
states of torch (CPU and CUDA), NumPy and Python.

Format 1 (before per-process states) held rank 0's queue and RNG states alone as ``queue`` and ``rng``;
``load_checkpoint`` reads it as a one-process list with ``world_size`` None (not recorded then).
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

CHECKPOINT_FORMAT = 2
_FORMAT_BEFORE_PROCESSES = 1
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


def own_process_state(
    state: dict[str, Any], rank: int, world_size: int, batch: int
) -> tuple[dict[str, Any], str | None]:
    """The pair queue and RNG states (``{"queue", "rng"}``) that process ``rank`` of ``world_size`` resumes from:
    saved entry ``rank % len(processes)``. Also a warning when the resume cannot be exact: the checkpoint was
    written by another number of processes, or by format 1, which kept rank 0's states alone. ``batch`` (per
    process) tells a format-1 checkpoint's number of processes from its sample position."""
    saved: list[dict[str, Any]] = state["processes"]
    saved_world = state["world_size"]
    if saved_world is None:
        # Format 1 did not record it, but its sample position is iteration × batch × world size.
        per_process = int(state["iteration"]) * batch
        saved_world = max(1, int(state["sample_position"]) // per_process) if per_process else len(saved)
    warning = None
    if saved_world != world_size:
        warning = (
            f"the checkpoint was written by {saved_world} process(es) and this run has {world_size}: the data "
            f"stream goes on where it stopped, but process N takes the pair queue and random states of saved "
            f"process N % {len(saved)}, so the run does not continue exactly as it would have"
        )
    elif len(saved) != world_size:
        warning = (
            "the checkpoint (from an older ldl train) holds the first process's pair queue and random states "
            "only: every process takes them, so the run does not continue exactly as it would have"
        )
    return saved[rank % len(saved)], warning


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
    found = state.get("format") if isinstance(state, dict) else None  # pyright: ignore[reportUnnecessaryIsInstance]
    if found == CHECKPOINT_FORMAT:
        return state
    if found == _FORMAT_BEFORE_PROCESSES:
        return _with_process_list(state)
    if isinstance(found, int) and found > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} was written by a newer ldl train (checkpoint format {found}; this one reads up to "
            f"{CHECKPOINT_FORMAT})",
            "update ldl-studio to resume it, or restart the run without --resume",
        )
    raise CheckpointError(f"{path} is not a checkpoint of this trainer", "restart the run without --resume")


def _with_process_list(state: dict[str, Any]) -> dict[str, Any]:
    # Format 1 → 2: the one queue and RNG entry become rank 0's; the world size was not written (None).
    rest = {key: value for key, value in state.items() if key not in ("queue", "rng")}
    entry = {"queue": state["queue"], "rng": state["rng"]}
    return {**rest, "format": CHECKPOINT_FORMAT, "world_size": None, "processes": [entry]}
