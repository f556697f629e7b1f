"""A warm model and the one call that turns a work item into an output file: what each Ray actor holds, and what
the in-process path runs. Both call ``upscale_file``, the function behind ``ldl upscale``, with the same job, so a
batch output is byte for byte ``ldl upscale``'s."""

from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.artifacts.files import LayerRequest, upscale_file
from ldl_backend.batch.plan import WorkItem
from ldl_backend.batch.recipe import BatchRecipe
from ldl_backend.engine.files import FileJob
from ldl_backend.engine.upscale import Backend, PreparedEngine, prepare_engine
from ldl_backend.errors import BlendInputError, ImageFileError, LdlError, OutputExistsError
from ldl_backend.models.formats.onnx_export import export_onnx
from ldl_backend.models.store import sha256_of

# Failures that come from the item itself: another try, anywhere, fails the same way.
_PERMANENT = (ImageFileError, OutputExistsError, BlendInputError)


@dataclass(frozen=True)
class WorkerId:
    """A worker process: ``index`` of its slot in the pool, and where it runs (a restarted actor keeps its index,
    with a new pid)."""

    index: int
    host: str
    pid: int

    def __str__(self) -> str:
        return f"w{self.index}@{self.host}:{self.pid}"


@dataclass(frozen=True)
class ItemOutcome:
    """What became of one try of one item. ``error``: None when the output is in place; ``retry``: the failure is
    one of the moment (memory, device, a dead worker) and worth another try; ``content_hash``: the input's sha256
    as the worker read it; ``started``: seconds since the epoch; ``seconds``: the worker's time on it."""

    key: str
    worker: str
    started: float
    seconds: float
    content_hash: str | None = None
    error: str | None = None
    retry: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class ItemWorker:
    """The model of ``recipe`` prepared once (device, precision, tiles, an ONNX export if asked), then
    ``run`` for each item. ``threads``: this worker's CPU threads (None: PyTorch's default, all cores)."""

    def __init__(self, recipe: BatchRecipe, index: int = 0, threads: int | None = None) -> None:
        self.recipe = recipe
        self.id = WorkerId(index, socket.gethostname(), os.getpid())
        options = dataclasses.replace(recipe.engine, threads=threads)
        # A model file exported here rather than the catalog's cache: every worker may lack the user's model folder.
        self._scratch = tempfile.TemporaryDirectory(prefix="ldl-batch-")
        onnx_path = Path(self._scratch.name) / "model.onnx"

        def onnx_file() -> Path:
            export_onnx(recipe.model, onnx_path)
            return onnx_path

        self.engine: PreparedEngine = prepare_engine(
            recipe.model, options, onnx_file if options.backend is Backend.ONNX else None
        )
        self._reference: PreparedEngine | None = None
        if recipe.reference_model is not None:
            self._reference = prepare_engine(recipe.reference_model, options)

    def describe(self) -> str:
        return f"{self.id} on {self.engine.runner.description}"

    def run(self, item: WorkItem) -> ItemOutcome:
        """Upscale ``item`` (its output appears complete or not at all). Never raises for a failed item: the
        failure is the outcome's ``error``; only Ctrl-C (``KeyboardInterrupt``) goes through."""
        started, clock = time.time(), time.perf_counter()

        def outcome(error: str | None = None, retry: bool = False, digest: str | None = None) -> ItemOutcome:
            return ItemOutcome(item.key, str(self.id), started, time.perf_counter() - clock, digest, error, retry)

        recipe = self.recipe
        job = FileJob(
            item.source,
            item.destination,
            recipe.output_size,
            recipe.alpha_mode,
            recipe.file_format,
            recipe.quality,
            item.overwrite,
            recipe.max_output_pixels,
        )
        layers = None
        if recipe.artifacts is not None:
            layers = LayerRequest(
                recipe.artifacts, self._reference, recipe.blend_as_output, layers_folder=item.layers_folder
            )
        try:
            digest = sha256_of(item.source)
            upscale_file(job, self.engine, layers)
        except _PERMANENT as error:
            return outcome(_describe(error))
        except LdlError as error:
            return outcome(_describe(error), retry=True)
        except OSError as error:  # the input vanished, a network file system hiccup
            return outcome(f"{type(error).__name__}: {error}", retry=True)
        except Exception as error:  # a worker is a process boundary: report the item's failure, keep the model warm
            return outcome(f"unexpected {type(error).__name__}: {error}", retry=True)
        return outcome(digest=digest)


def _describe(error: LdlError) -> str:
    return f"{error.code}: {error.message}" + (f" ({error.hint})" if error.hint else "")
