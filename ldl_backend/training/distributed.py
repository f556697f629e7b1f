"""Multi-process training under ``torchrun``: PyTorch's DistributedDataParallel, nothing home-made.

``torchrun --nproc_per_node N -m ldl_backend.cli train ...`` starts N processes with ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` in their environment. ``Launch.from_environment`` reads them; ``process_group`` joins the group
(NCCL on CUDA, gloo on the CPU) and leaves it at the end or on an error; ``ddp_wrapper`` wraps G and D in
``DistributedDataParallel``, which averages their gradients and keeps their weights equal on every process.
``gather_to_main`` brings what differs between processes (pair queues, random states) to rank 0 for checkpoints.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

T = TypeVar("T")

# Far longer than the worker needs to free a finished collective (microseconds), short beside a training run.
_SETTLE_SECONDS = 0.2

ModuleWrapper = Callable[[nn.Module], nn.Module]
"""Wraps a network for training (``ddp_wrapper``); the wrapped module is used for forward passes only."""


@dataclass(frozen=True)
class Launch:
    """This process's place among the processes ``torchrun`` started: ``rank`` of ``world_size``, and
    ``local_rank`` on this machine (the GPU it uses)."""

    rank: int
    world_size: int
    local_rank: int

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size or self.local_rank < 0:
            raise ValueError(f"rank {self.rank} (local {self.local_rank}) of {self.world_size} processes")

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Launch | None:
        """The launch ``torchrun`` describes in the environment, or None for a plain single-process run
        (no ``WORLD_SIZE``, or a world of one). Raises ``ValueError`` for malformed values."""
        environment = os.environ if environment is None else environment
        world_size = int(environment.get("WORLD_SIZE", "1"))
        if world_size == 1:
            return None
        rank = int(environment["RANK"])
        return cls(rank, world_size, int(environment.get("LOCAL_RANK", str(rank))))

    def device(self, requested: str) -> str:
        """The device this process trains on: ``auto`` or ``cuda`` become ``cuda:LOCAL_RANK`` when CUDA is
        available (``auto`` is the CPU otherwise); an explicit ``cuda:N`` or ``cpu`` is kept."""
        if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
            return f"cuda:{self.local_rank}"
        return "cpu" if requested == "auto" else requested


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[None]:
    """Join the process group ``torchrun`` set up (NCCL for CUDA devices, gloo otherwise), and leave it when the
    block ends, however it ends."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
    # Rank 0 validates and writes checkpoints alone while the others wait in the next all-reduce: allow an hour.
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(hours=1))
    try:
        yield
        settle()
    finally:
        dist.destroy_process_group()


def settle() -> None:
    """Let the process group's worker finish its clean-up before the group is destroyed (after a normal end).

    Gloo's worker thread frees finished collectives itself; freeing one that held Python tensors (a checkpoint's
    ``gather_object``, which the barrier after it refers to) needs the GIL. Destroying the group joins that thread
    while holding the GIL, so a free still pending then deadlocks (seen once in the two-process tests). A last
    barrier runs every queued collective; the pause after it, without the GIL, lets the worker free them."""
    if distributed():
        dist.barrier()
        time.sleep(_SETTLE_SECONDS)


def ddp_wrapper(device: torch.device) -> ModuleWrapper:
    """Wraps a network (already on ``device``) in ``DistributedDataParallel``. Every parameter of G and D takes part
    in each backward pass through the wrapper, so ``find_unused_parameters`` stays off (it costs a graph walk)."""

    def wrap(network: nn.Module) -> nn.Module:
        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(network, device_ids=ids)

    return wrap


def distributed() -> bool:
    """True inside a joined process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def barrier() -> None:
    """Wait for every process (nothing in a single-process run)."""
    if distributed():
        dist.barrier()


def any_process(flag: bool, device: torch.device) -> bool:
    """True when ``flag`` is true on any process (``flag`` itself in a single-process run)."""
    if not distributed():
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def gather_to_main(value: T) -> list[T] | None:
    """Every process's ``value`` in rank order on rank 0, None on the others; ``[value]`` in a single-process run.

    A collective: every process must call it, at the same point. ``value`` is pickled (dicts, lists, tuples, plain
    values and tensors); its tensors travel as CPU copies, so rank 0 never holds another process's GPU tensors
    (unpickled, they would land on that process's GPU index) and the checkpoint reads back on any machine. Under
    NCCL the pickled bytes still pass through the GPUs: rank 0 briefly holds world size × the largest value there
    (a real-world pair queue of 180 is about 300 MB per process).
    """
    value = on_cpu(value)
    if not distributed():
        return [value]
    gathered: list[Any] | None = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(value, gathered, dst=0)
    return gathered


def on_cpu(value: T) -> T:
    """``value`` with every tensor in it (through dicts, lists and tuples) copied to the CPU; others as they are."""
    if isinstance(value, torch.Tensor):
        return value.cpu()  # type: ignore[return-value]
    if isinstance(value, dict):
        return {key: on_cpu(item) for key, item in value.items()}  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        items = [on_cpu(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
        return items if isinstance(value, list) else tuple(items)  # type: ignore[return-value]
    return value
