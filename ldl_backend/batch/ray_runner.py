"""The items on a Ray cluster: one actor per worker holds a warm model (``ItemWorker``), Ray places the actors on
the nodes (by their CPU and GPU requests) and restarts one whose process dies; this driver keeps each actor's queue
short and hands a dead actor's items to the next free one. Only this module imports Ray."""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ldl_backend.batch.ledger import RunLedger
from ldl_backend.batch.plan import WorkItem
from ldl_backend.batch.recipe import BatchRecipe
from ldl_backend.batch.worker import ItemOutcome, ItemWorker
from ldl_backend.errors import LdlError

# Calls queued per actor: the next item waits inside the actor while one runs, so an actor never idles for a
# round trip to the driver. More would pile items onto an actor that may die or be slower than the others.
QUEUE_DEPTH = 2
# How often the driver wakes while waiting for results: Ctrl-C is seen at the latest after this long.
_WAIT_SECONDS = 0.5
# How long the driver waits before probing again an actor whose last probe failed (Ray still restarting it).
_PROBE_SECONDS = 0.5
# Every worker lost for this long (Ray finds no node with room to restart them): the run stops, resumable.
_GIVE_UP_SECONDS = 300.0
# Default CPU threads per worker when neither --workers nor --threads says: PyTorch's convolutions scale well to
# about this many; more workers beat more threads beyond it.
_THREADS_PER_WORKER = 4


@dataclass(frozen=True)
class WorkerShape:
    """The pool: ``workers`` actors, each asking Ray for ``cpus`` CPUs and ``gpus`` GPUs, running ``threads``
    PyTorch threads."""

    workers: int
    cpus: float
    gpus: float
    threads: int

    def __str__(self) -> str:
        each = f"{self.gpus:g} GPU" if self.gpus else f"{self.threads} thread{'s' if self.threads > 1 else ''}"
        return f"{self.workers} worker{'s' if self.workers > 1 else ''} × {each}"


def worker_shape(
    cpus: float, gpus: float, workers: int | None, threads: int | None, gpus_per_worker: float | None
) -> WorkerShape:
    """The pool for a cluster of ``cpus`` CPUs and ``gpus`` GPUs: one worker per GPU (``gpus_per_worker`` each,
    e.g. 0.5 for two on one GPU) when it has GPUs, else CPU workers sharing the CPUs. Raises ``LdlError`` when
    the request cannot fit (Ray would wait forever for resources that never come)."""
    per_gpu = gpus_per_worker if gpus_per_worker is not None else (1.0 if gpus >= 1 else 0.0)
    if per_gpu > 0:
        count = workers or max(1, math.floor(gpus / per_gpu))
        if count * per_gpu > gpus:
            raise LdlError(
                f"{count} workers × {per_gpu:g} GPU need {count * per_gpu:g} GPUs; the cluster has {gpus:g}",
                "ask for fewer --workers or a smaller --gpus-per-worker (0 runs on CPUs)",
            )
        return WorkerShape(count, 1.0, per_gpu, threads or 1)
    whole = max(1, math.floor(cpus))
    if workers is None:
        threads = threads or min(_THREADS_PER_WORKER, whole)
        workers = max(1, whole // threads)
    threads = threads or max(1, whole // workers)
    if workers * threads > cpus:
        raise LdlError(
            f"{workers} workers × {threads} threads need {workers * threads} CPUs; the cluster has {cpus:g}",
            "ask for fewer --workers or --threads, or add nodes (`ray start --address=HEAD:6379` on each)",
        )
    return WorkerShape(workers, float(threads), 0.0, threads)


@contextlib.contextmanager
def connected(address: str, cpus: int | None = None) -> Iterator[None]:
    """Ray, connected: ``local`` starts a cluster on this machine (with ``cpus`` CPUs, default all), anything
    else is a cluster's address (``HEAD:6379`` or ``auto``). When Ray is already initialised in this process
    (a test, a notebook), that connection is used and left open."""
    try:
        import ray
    except ImportError as error:
        raise LdlError(
            f"--ray {address} needs Ray, which is not installed",
            "install it with `pip install 'ldl-studio[cluster]'`, or run in this process with --ray off",
        ) from error

    if ray.is_initialized():
        yield
        return
    try:
        if address == "local":
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise LdlError(
            f"cannot reach the Ray cluster at {address}: {error}",
            "start one with `ray start --head` and pass its address (HEAD:6379), or use --ray local or --ray off",
        ) from error
    try:
        yield
    finally:
        ray.shutdown()


def cluster_resources() -> tuple[float, float]:
    """(CPUs, GPUs) of the connected cluster."""
    import ray

    resources = ray.cluster_resources()
    return float(resources.get("CPU", 0.0)), float(resources.get("GPU", 0.0))


class _BatchActor:
    """The Ray actor: an ``ItemWorker`` in its own process, on whichever node Ray placed it.

    The recipe comes with each call as a reference inside a list (so Ray passes the reference, not the weights),
    and the model is prepared on the first call: an actor that Ray restarts after its process died prepares it
    again from the driver's copy, which lives as long as the pool."""

    def __init__(self, index: int, threads: int) -> None:
        self._index = index
        self._threads = threads
        self._worker: ItemWorker | None = None

    def prepare(self, recipe: list[Any]) -> str:
        return self._ready(recipe).describe()

    def run(self, item: WorkItem, recipe: list[Any]) -> ItemOutcome:
        return self._ready(recipe).run(item)

    def _ready(self, recipe: list[Any]) -> ItemWorker:
        if self._worker is None:
            import ray

            self._worker = ItemWorker(ray.get(recipe[0]), self._index, self._threads)
        return self._worker


class RayPool:
    """``shape.workers`` actors holding ``recipe``'s model, started (and their models loaded) on entry, killed on
    exit. Raises ``LdlError`` with the worker's own error when a model cannot be prepared there."""

    def __init__(self, recipe: BatchRecipe, shape: WorkerShape, queue_depth: int = QUEUE_DEPTH) -> None:
        self._recipe = recipe
        self._shape = shape
        self._depth = queue_depth
        self._actors: list[Any] = []
        self._remote: Any = None
        self._recipe_reference: Any = None
        self._started = 0
        # Actors are named (``ray list actors``, ``ray.get_actor``): ldl-batch-<this pool>-w<slot>.<start count>.
        self._prefix = f"ldl-batch-{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []

    def __enter__(self) -> RayPool:
        import ray
        from ray.exceptions import RayError

        shape = self._shape
        self._remote = ray.remote(_BatchActor)
        # One copy of the weights in the object store, whatever the worker count; restarted actors read it again.
        self._recipe_reference = ray.put(self._recipe)
        self._actors = [self._start(index) for index in range(shape.workers)]
        try:
            self.names = ray.get([actor.prepare.remote([self._recipe_reference]) for actor in self._actors])
        except RayError as error:
            self._kill()
            cause = getattr(error, "cause", None)  # the exception the actor raised, when it raised one
            if isinstance(cause, LdlError):
                raise LdlError(f"a batch worker could not start: {cause.message}", cause.hint) from error
            raise LdlError(
                f"a batch worker could not start: {str(error).splitlines()[0]}",
                "see Ray's message above, and check that every node has ldl-studio and its model stack installed",
            ) from error
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._kill()

    def run(self, items: Sequence[WorkItem], ledger: RunLedger) -> None:
        """Run every item, at most ``queue_depth`` queued per actor. An item whose actor died is tried again (on
        the next free actor); an actor that Ray cannot bring back is replaced. On Ctrl-C the items in flight are
        released and the actors killed before ``KeyboardInterrupt`` goes on."""
        import ray
        from ray.exceptions import ActorDiedError, RayError

        pending = deque(items)
        in_flight: dict[Any, tuple[int, WorkItem, Any]] = {}  # result → (slot, item, the actor it went to)
        load = [0] * len(self._actors)
        # A slot whose actor was lost gets no item until a probe (``prepare``) comes back from it: while Ray restarts
        # the process, every call sent there fails at once, and an item sent again and again would spend all its
        # tries in a moment (seen on a busy machine: two items failed, each "lost" four times in a row).
        recovering = _Recovery()
        try:
            while pending or in_flight or recovering.active:
                for slot in recovering.due():
                    actor = self._actors[slot]
                    recovering.probing(actor.prepare.remote([self._recipe_reference]), slot, actor)
                # Level by level: every idle actor gets an item before any gets a second to queue.
                for level in range(1, self._depth + 1):
                    for slot in range(len(self._actors)):
                        if load[slot] < level and pending and not recovering.holds(slot):
                            item = pending.popleft()
                            ledger.start(item, self._worker_name(slot))
                            actor = self._actors[slot]
                            in_flight[actor.run.remote(item, [self._recipe_reference])] = (slot, item, actor)
                            load[slot] += 1
                if recovering.stuck(len(self._actors)):
                    raise LdlError(
                        f"no batch worker has come back for {_GIVE_UP_SECONDS:.0f} s after being lost",
                        "check the Ray cluster (`ray status`): its nodes may be gone or out of room; "
                        "then run the same command with --resume to do what is left",
                    )
                waiting = [*in_flight, *recovering.probes]
                if not waiting:  # every actor is between probes
                    time.sleep(_PROBE_SECONDS)
                    continue
                ready, _ = ray.wait(waiting, num_returns=1, timeout=_WAIT_SECONDS)
                for reference in ready:
                    if reference in recovering.probes:
                        slot, actor = recovering.probes.pop(reference)
                        try:
                            self.names[slot] = ray.get(reference)
                        except RayError as error:
                            self._replace_if_gone(slot, actor, error, ActorDiedError)
                            recovering.again(slot)
                        else:
                            recovering.back(slot)
                        continue
                    slot, item, actor = in_flight.pop(reference)
                    load[slot] -= 1
                    try:
                        outcome: ItemOutcome = ray.get(reference)
                    except RayError as error:  # the actor's process died, or Ray lost the result
                        if self._actors[slot] is actor:
                            self._replace_if_gone(slot, actor, error, ActorDiedError)
                            recovering.lost(slot)
                        outcome = ItemOutcome(
                            item.key, self._worker_name(slot), time.time(), 0.0, None, _died(error), retry=True
                        )
                    else:
                        self.names[slot] = outcome.worker
                    if ledger.finish(item, outcome):
                        pending.append(item)
        except (KeyboardInterrupt, LdlError):
            for _, item, _ in in_flight.values():
                ledger.release(item)
            self._kill()
            # Wait (briefly) until the killed actors are gone: none of them is still writing into the output folder.
            if in_flight:
                ray.wait(list(in_flight), num_returns=len(in_flight), timeout=10)
            raise

    def _replace_if_gone(self, slot: int, actor: Any, error: Exception, gone: type[Exception]) -> None:
        # Gone for good (Ray restarts a dead process itself, and until then calls fail as "unavailable"): a fresh
        # actor takes the slot, wherever Ray finds room for it; the slot's other calls fail the same way.
        # Only the slot's current actor: a call to one already replaced must not replace its successor (the actor
        # started in between would be left running, holding its CPUs or GPU).
        if isinstance(error, gone) and self._actors[slot] is actor:
            self._actors[slot] = self._start(slot)

    def _start(self, index: int) -> Any:
        self._started += 1
        shape = self._shape
        # max_restarts=-1: Ray brings a dead actor back (on any node with room); max_task_retries=0: the driver,
        # not Ray, decides whether an item is tried again, so every try is counted against --retries.
        return self._remote.options(
            name=f"{self._prefix}-w{index}.{self._started}",
            num_cpus=shape.cpus,
            num_gpus=shape.gpus,
            max_restarts=-1,
            max_task_retries=0,
        ).remote(index, shape.threads)

    def _worker_name(self, slot: int) -> str:
        return self.names[slot] if slot < len(self.names) else f"w{slot}"

    def _kill(self) -> None:
        import ray

        for actor in self._actors:
            ray.kill(actor, no_restart=True)


class _Recovery:
    """The slots whose actor was lost, each waiting for a probe to come back (or for the time to send one)."""

    def __init__(self) -> None:
        self.probes: dict[Any, tuple[int, Any]] = {}  # a probe's result → (its slot, the actor probed)
        self._due: dict[int, float] = {}  # slot → when to send its (next) probe
        self._since: dict[int, float] = {}  # slot → when its actor was lost

    @property
    def active(self) -> bool:
        return bool(self.probes or self._due)

    def holds(self, slot: int) -> bool:
        return slot in self._due or any(probed == slot for probed, _ in self.probes.values())

    def lost(self, slot: int) -> None:
        if not self.holds(slot):
            self._due[slot] = self._since[slot] = time.monotonic()

    def stuck(self, slots: int) -> bool:
        """Every slot lost, the first of them longer ago than ``_GIVE_UP_SECONDS``."""
        return len(self._since) == slots and time.monotonic() - min(self._since.values()) > _GIVE_UP_SECONDS

    def due(self) -> list[int]:
        now = time.monotonic()
        slots = [slot for slot, when in self._due.items() if when <= now]
        for slot in slots:
            del self._due[slot]
        return slots

    def probing(self, probe: Any, slot: int, actor: Any) -> None:
        self.probes[probe] = (slot, actor)

    def again(self, slot: int) -> None:
        self._due[slot] = time.monotonic() + _PROBE_SECONDS

    def back(self, slot: int) -> None:
        self._due.pop(slot, None)
        self._since.pop(slot, None)


def _died(error: Exception) -> str:
    return f"the worker was lost while on this item ({type(error).__name__}: its process died or Ray lost the result)"
