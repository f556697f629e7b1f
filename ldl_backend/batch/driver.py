"""One ``ldl batch`` run from start to end: lock the output folder, plan against the manifest, run the items in
process or on Ray, and leave the manifest consistent however the run ends."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ldl_backend.batch.inputs import collect_inputs, plan_outputs
from ldl_backend.batch.ledger import OutcomeObserver, RunLedger, RunSummary
from ldl_backend.batch.local_runner import run_in_process
from ldl_backend.batch.lock import OutputLock
from ldl_backend.batch.manifest import ItemStatus, Manifest
from ldl_backend.batch.plan import BatchPlan, PlanRequest, plan_batch
from ldl_backend.batch.recipe import BatchRecipe, fingerprint
from ldl_backend.batch.worker import ItemWorker
from ldl_backend.errors import LdlError

# What the atomic writers leave behind when their process is killed mid-write (storage.atomic_output and
# artifacts.layers.write_together): never a finished output.
_TEMPORARY_SUFFIXES = (".partial", ".pending")


@dataclass(frozen=True)
class BatchRequest:
    """How to run a batch (as opposed to what each output is: ``BatchRecipe``). ``ray``: None runs in this
    process, ``local`` starts Ray here, anything else is a cluster address; ``workers``/``threads``/
    ``gpus_per_worker``: the pool (None: from the cluster's resources); ``retries``: tries per item;
    ``size_label``: what output names get after the input's stem (``_x4``), as ``ldl upscale`` names them."""

    input_folder: Path
    output_folder: Path
    size_label: str
    ray: str | None = None
    workers: int | None = None
    threads: int | None = None
    gpus_per_worker: float | None = None
    resume: bool = False
    overwrite: bool = False
    retries: int = 3
    show_progress: bool = True

    def __post_init__(self) -> None:
        if self.retries < 1:
            raise ValueError(f"--retries must be at least 1 (the first try counts), not {self.retries}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, not {self.workers}")
        if self.gpus_per_worker is not None and self.gpus_per_worker < 0:
            raise ValueError(f"--gpus-per-worker must be 0 or more, not {self.gpus_per_worker}")


def run_batch(request: BatchRequest, recipe: BatchRecipe, observer: OutcomeObserver | None = None) -> RunSummary:
    """Upscale every image under ``request.input_folder`` into the mirrored tree under ``request.output_folder``.

    Raises ``LdlError`` before any work for a missing input folder, an output folder inside the input folder, an
    output folder another run holds (``BatchLockedError``) or one holding an earlier batch without ``resume`` or
    ``overwrite``; and when no worker can start. A failed item does not raise: it is in the summary. Ctrl-C
    returns the summary with ``interrupted`` set, the manifest committed and the items in flight released."""
    input_folder = request.input_folder.resolve()
    output_folder = request.output_folder.resolve()
    if not input_folder.is_dir():
        raise LdlError(f"{request.input_folder} is not a folder", "ldl batch takes a folder of images")
    if output_folder.is_relative_to(input_folder):
        raise LdlError(
            f"the output folder {request.output_folder} is inside the input folder",
            "choose an output folder outside it: a later run would take the outputs for inputs",
        )
    inputs = collect_inputs([input_folder], recursive=True)
    if not inputs:
        raise LdlError(f"no images found in {request.input_folder}", "supported: PNG, JPEG, WebP, TIFF, BMP")
    items = plan_outputs(inputs, output_folder, request.size_label, recipe.file_format)
    settings = fingerprint(recipe)
    with OutputLock(output_folder), Manifest(output_folder) as manifest:
        plan = plan_batch(
            PlanRequest(
                input_folder, output_folder, settings.digest, request.resume, request.overwrite, recipe.layers_root
            ),
            items,
            manifest.items(),
        )
        run = manifest.begin_run(input_folder, settings.text, "starting")
        records = [
            dataclasses.replace(record, run=run) if record.status is ItemStatus.PENDING else record
            for record in plan.records
        ]
        to_do = [record for record in records if record.status is ItemStatus.PENDING]
        ledger = RunLedger(manifest, to_do, request.retries, len(plan.skipped), observer, request.show_progress)
        workers = "in process" if request.ray is None else f"Ray at {request.ray}"
        written = [output_folder, *([recipe.layers_root] if recipe.layers_root else [])]
        try:
            manifest.save(records)
            manifest.commit()
            _remove_temporaries(written)
            print(_plan_line(plan), file=sys.stderr)
            if plan.todo:
                workers = _run(request, recipe, plan, ledger)
        except KeyboardInterrupt:
            summary = ledger.summary(interrupted=True)
            manifest.end_run(run, "interrupted", workers)
            _remove_temporaries(written)
            return summary
        except BaseException:
            ledger.summary()
            manifest.end_run(run, "stopped", workers)
            raise
        summary = ledger.summary()
        manifest.end_run(run, "finished", workers)
        _remove_temporaries(written)
        return summary


def _run(request: BatchRequest, recipe: BatchRecipe, plan: BatchPlan, ledger: RunLedger) -> str:
    """Run the plan's items; returns how (for the manifest's run record)."""
    if request.ray is None:
        worker = ItemWorker(recipe, 0, request.threads)
        print(f"1 worker in process: {worker.describe()}", file=sys.stderr)
        run_in_process(worker, plan.todo, ledger)
        return "1 worker in process"
    # Imported only here: the in-process path, --status and --help never load Ray.
    from ldl_backend.batch.ray_runner import RayPool, cluster_resources, connected, worker_shape

    with connected(request.ray):
        cpus, gpus = cluster_resources()
        shape = worker_shape(cpus, gpus, request.workers, request.threads, request.gpus_per_worker)
        with RayPool(recipe, shape) as pool:
            print(f"{shape} on Ray ({cpus:g} CPUs, {gpus:g} GPUs):", file=sys.stderr)
            for name in pool.names:
                print(f"  {name}", file=sys.stderr)
            pool.run(plan.todo, ledger)
        return f"{shape} on Ray"


def _plan_line(plan: BatchPlan) -> str:
    reasons = ", ".join(f"{count} {reason.value}" for reason, count in plan.reasons.most_common())
    return f"{len(plan.todo)} to do" + (f" ({reasons})" if reasons else "") + f", {len(plan.skipped)} unchanged"


def _remove_temporaries(folders: list[Path]) -> None:
    """Delete what killed writers left in ``folders`` (the run holds the folder's lock: no writer of another run
    is still going)."""
    for folder in folders:
        for parent, _, names in os.walk(folder):
            for name in names:
                if name.startswith(".") and name.endswith(_TEMPORARY_SUFFIXES):
                    (Path(parent) / name).unlink(missing_ok=True)
