"""The worker process: keeps recently used models loaded and runs one job at a time.

A crash here (a segfault in a native library, the OOM killer) takes down only this process; the supervisor in
the API process notices, fails the job and starts a new worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

from ldl_backend.artifacts.selective import ArtifactOptions, upscale_with_layers
from ldl_backend.engine.device import choose_target
from ldl_backend.engine.pipeline import OutputSize
from ldl_backend.engine.progress import CancelledError, CancelToken, Progress
from ldl_backend.engine.upscale import EngineOptions, PreparedEngine, prepare_engine
from ldl_backend.errors import LdlError
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.descriptor import ModelDescriptor
from ldl_backend.models.loading import LoadedModel
from ldl_backend.models.store import ModelStore
from ldl_backend.server.config import DEFAULT_MODEL_MEMORY
from ldl_backend.server.freed_memory import return_freed_memory
from ldl_backend.server.layer_cache import LayerCache
from ldl_backend.server.protocol import JobFailed, JobFinished, JobProgress, Ready, RunJob
from ldl_client.options import ReferenceKind, SubmitOptions

_log = logging.getLogger(__name__)

# The worker runs at a lower CPU priority than the API process: a job keeps every core busy, and at equal priority a
# request waited for a time slice (GET /health on a kept-alive connection: p99 16 ms while a job ran on two cores,
# 0.8 ms with the worker at this niceness).
WORKER_NICENESS = 10


class SharedCancelToken(CancelToken):
    """A ``CancelToken`` backed by a multiprocessing event that the API process sets."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self._shared = event

    def cancel(self) -> None:
        self._shared.set()

    @property
    def cancelled(self) -> bool:
        return self._shared.is_set()

    def raise_if_cancelled(self) -> None:
        if self._shared.is_set():
            raise CancelledError()


@dataclass(frozen=True)
class WorkerSettings:
    models_dir: Path
    cache_dir: Path
    model_memory: int = DEFAULT_MODEL_MEMORY
    tile_memory: int | None = None  # EngineOptions.tile_memory for every job


class UnsupportedDeviceError(LdlError):
    """The job's device or precision cannot run here: no such GPU, fp16 on the CPU, a model unreliable in fp16."""

    code = "unsupported_device"


class EngineCache:
    """Loaded models kept between jobs within a memory budget (loading costs more than a small job), least
    recently used evicted first; the model just used always stays.

    One copy of the weights per model and device (a runner moves its network to its device, so engines on
    different devices cannot share one), shared by that device's engines: one per set of engine options (alpha
    mode, precision, tile). ``auto`` is resolved first, so ``auto`` and the device it means share everything.
    """

    def __init__(self, store: ModelStore, budget_bytes: int, tile_memory: int | None = None) -> None:
        self._store = store
        self._budget = budget_bytes
        self._tile_memory = tile_memory
        self._models: OrderedDict[tuple[str, str], tuple[LoadedModel, int]] = OrderedDict()
        self._engines: dict[tuple[str, EngineOptions], PreparedEngine] = {}
        self._descriptors: dict[str, ModelDescriptor] = {}

    def get(self, name: str, options: EngineOptions) -> PreparedEngine:
        """The engine for model ``name`` with these options (device and precision None = the engine's choice).

        Raises ``UnsupportedDeviceError`` (with the engine's message and hint) for a device or precision this
        machine or this model cannot run, and the store's ``LdlError`` for a model it cannot load.
        """
        fresh = None
        descriptor = self._descriptors.get(name)
        if descriptor is None:
            fresh = self._store.load(name)
            descriptor = self._descriptors[name] = fresh.descriptor
        try:
            target = choose_target(descriptor, options.device, options.precision)
        except LdlError as error:
            raise UnsupportedDeviceError(error.message, error.hint) from error
        options = dataclasses.replace(
            options, device=str(target.device), precision=target.precision, tile_memory=self._tile_memory
        )
        key = (name, str(target.device))
        entry = self._models.pop(key, None)
        if entry is None:
            model = fresh if fresh is not None else self._store.load(name)
            entry = (model, sum(p.numel() * p.element_size() for p in model.network.parameters()))
        self._models[key] = entry
        engine = self._engines.get((name, options))
        if engine is None:
            engine = prepare_engine(entry[0], options)
            self._engines[(name, options)] = engine
        while len(self._models) > 1 and sum(size for _, size in self._models.values()) > self._budget:
            evicted, _ = self._models.popitem(last=False)
            self._engines = {held: kept for held, kept in self._engines.items() if (held[0], held[1].device) != evicted}
        return engine

    @property
    def loaded(self) -> tuple[str, ...]:
        """Model names in the cache (once per device holding a copy), least recently used first."""
        return tuple(name for name, _ in self._models)


def engine_options(options: SubmitOptions) -> EngineOptions:
    """The engine's options for a job's (``auto`` = None, as ``ldl upscale`` passes them)."""
    return EngineOptions(
        device=None if options.device == "auto" else options.device,
        precision=options.precision,
        tile=options.tile,
        alpha_mode=options.alpha,
    )


def run_job(
    request: RunJob, engines: EngineCache, cache: LayerCache, cancel: CancelToken, connection: Connection
) -> None:
    options = request.options
    reference = options.reference
    chosen = engine_options(options)
    engine = engines.get(options.model, chosen)
    reference_engine = None
    if reference.kind is ReferenceKind.MODEL and reference.model_name is not None:
        reference_engine = engines.get(reference.model_name, chosen)
    image = cache.load_input(request.job_id)
    last_sent, last_stage = 0.0, ""

    def report(progress: Progress) -> None:
        # A new stage label (a stage, a TTA transform) always goes out; repeats of one label at most every 0.05 s.
        nonlocal last_sent, last_stage
        # Every report is a point to stop at, not only the engine's tile boundaries: the map and the blend are
        # whole-image steps, so a cancel during the last reference pass used to run both to the end first. Checked
        # before sending, so the job keeps the stage the cancel landed in.
        cancel.raise_if_cancelled()
        now = time.monotonic()
        if now - last_sent >= 0.05 or progress.stage != last_stage or progress.done == progress.total:
            last_sent, last_stage = now, progress.stage
            connection.send(
                JobProgress(request.job_id, progress.done, progress.total, progress.stage, progress.remaining)
            )

    layers = upscale_with_layers(
        image,
        engine,
        artifact_options(options),
        reference_engine=reference_engine,
        alpha_mode=options.alpha,
        output_size=None if options.scale is None else OutputSize(scale=options.scale),
        progress=report,
        cancel=cancel,
    )
    cancel.raise_if_cancelled()
    cache.save_layers(request.job_id, layers)
    connection.send(JobFinished(request.job_id, layers.detail.width, layers.detail.height))


def artifact_options(options: SubmitOptions) -> ArtifactOptions:
    return ArtifactOptions(options.reference, options.threshold, options.softness)


def _lower_priority() -> None:
    """``WORKER_NICENESS`` for this process, every thread of it on Linux (where niceness is per thread, and the
    imports have started some already); nothing on Windows, nor where it already runs lower."""
    tasks = Path("/proc/self/task")
    if tasks.is_dir():
        threads = [int(task.name) for task in tasks.iterdir()]
    elif hasattr(os, "setpriority"):
        threads = [0]  # the whole process
    else:
        return
    for thread in threads:
        # Raising a priority again needs privileges: EACCES where it runs at a higher niceness already.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, thread, WORKER_NICENESS)


def _exit_with_parent() -> None:
    """End this process as soon as the API process that spawned it is gone (killed, crashed).

    The pipe tells only when the worker next reports, and one tile of a large model on a CPU can run for a minute:
    an orphan would hold its memory (and write into a cache a restarted server owns) until then.
    """
    parent = multiprocessing.parent_process()
    if parent is None:  # not spawned by multiprocessing (a test calling the loop directly)
        return

    def watch() -> None:
        parent.join()  # waits on the parent's sentinel: returns once it has exited, whatever the platform
        os._exit(1)

    threading.Thread(target=watch, name="ldl-parent-watch", daemon=True).start()


def serve_jobs(settings: WorkerSettings, connection: Connection, cancel_event: Event) -> None:
    """The worker's main loop (the target of the spawned process): one ``RunJob`` at a time until the pipe closes."""
    _lower_priority()
    _exit_with_parent()
    store = ModelStore(settings.models_dir, builtin_catalog())
    engines = EngineCache(store, settings.model_memory, settings.tile_memory)
    cache = LayerCache(settings.cache_dir)
    cancel = SharedCancelToken(cancel_event)
    try:
        connection.send(Ready(os.getpid()))
    except OSError:  # the server stopped while this worker was starting: nobody to serve, exit quietly
        return
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if not isinstance(request, RunJob):
            continue
        try:
            run_job(request, engines, cache, cancel, connection)
        except LdlError as error:
            connection.send(JobFailed(request.job_id, error.code, error.message, error.hint))
        except ValueError as error:
            connection.send(JobFailed(request.job_id, "bad_request", str(error), "check the job's options"))
        except Exception as error:  # the process boundary: any failure becomes the job's error, the worker lives on
            _log.exception("job %s failed", request.job_id)
            connection.send(
                JobFailed(request.job_id, "internal", f"the upscale failed: {error}", "see the server's log")
            )
        finally:
            return_freed_memory()  # finished, failed or cancelled: the job's peak goes back to the system
