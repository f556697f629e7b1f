"""Which items a run does: every input, less (with ``--resume``) those whose input, settings and output are as the
manifest recorded them."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ldl_backend.batch.inputs import BatchItem
from ldl_backend.batch.manifest import ItemRecord, ItemStatus
from ldl_backend.errors import LdlError
from ldl_backend.models.store import sha256_of


@dataclass(frozen=True)
class WorkItem:
    """One input to upscale. ``key``: its path under the input folder, its name in the manifest;
    ``layers_folder``: where its layer files go (None: none); ``overwrite``: the destination may be replaced (it
    is this batch's own earlier output, or ``--overwrite``); ``replaces``: this input's earlier output under
    another name (the settings changed its name), removed once the new output is recorded."""

    key: str
    source: Path
    destination: Path
    layers_folder: Path | None = None
    overwrite: bool = False
    replaces: Path | None = None


class Reason(str, Enum):
    NEW = "new"
    INPUT_CHANGED = "input changed"
    SETTINGS_CHANGED = "settings changed"
    OUTPUT_MISSING = "output missing"
    UNFINISHED = "unfinished or failed before"
    REDONE = "redone (--overwrite)"


@dataclass(frozen=True)
class BatchPlan:
    """``todo``: the items to run; ``skipped``: keys of the items left as they are; ``reasons``: why each item is in
    ``todo``; ``records``: what the manifest gets before the run (pending records, and skipped items' new mtimes)."""

    todo: list[WorkItem]
    skipped: list[str]
    reasons: Counter[Reason]
    records: list[ItemRecord]


@dataclass(frozen=True)
class PlanRequest:
    input_folder: Path
    output_folder: Path
    settings_hash: str
    resume: bool = False
    overwrite: bool = False
    layers_root: Path | None = None


def plan_batch(request: PlanRequest, items: Sequence[BatchItem], previous: dict[str, ItemRecord]) -> BatchPlan:
    """Compare every input with its manifest record. Without ``resume``, an output folder that holds an earlier
    batch is refused unless ``overwrite`` (then everything is redone). With it, an item is skipped when it is done,
    its settings hash matches, its output exists and its input is unchanged: same size and mtime, or else the same
    sha256 (a copied or touched file is not redone)."""
    if previous and not (request.resume or request.overwrite):
        done = sum(record.status is ItemStatus.DONE for record in previous.values())
        raise LdlError(
            f"{request.output_folder} holds an earlier batch ({done} of {len(previous)} items done)",
            "pass --resume to do only what is missing or changed, or --overwrite to redo every item",
        )
    root = request.input_folder.resolve()
    todo: list[WorkItem] = []
    skipped: list[str] = []
    reasons: Counter[Reason] = Counter()
    records: list[ItemRecord] = []
    for item in items:
        key = item.source.relative_to(root).as_posix()
        stat = item.source.stat()
        destination = item.destination.relative_to(request.output_folder).as_posix()
        old = previous.get(key)
        content_hash = (
            old.content_hash if old and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns) else None
        )
        reason = _reason(request, item, old)
        if reason is Reason.INPUT_CHANGED and old is not None:
            content_hash = sha256_of(item.source)
            if content_hash == old.content_hash:
                reason = None
        if reason is None and old is not None:
            skipped.append(key)
            if (old.size, old.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                records.append(dataclasses.replace(old, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
            continue
        reasons[reason or Reason.NEW] += 1
        records.append(
            ItemRecord(
                key,
                destination,
                stat.st_size,
                stat.st_mtime_ns,
                content_hash,
                request.settings_hash,
                ItemStatus.PENDING,
            )
        )
        earlier = request.output_folder / old.destination if old is not None else None
        todo.append(
            WorkItem(
                key,
                item.source,
                item.destination,
                None if request.layers_root is None else request.layers_root / Path(key).parent,
                overwrite=request.overwrite or old is not None,
                replaces=earlier if earlier is not None and earlier != item.destination else None,
            )
        )
    return BatchPlan(todo, skipped, reasons, records)


def _reason(request: PlanRequest, item: BatchItem, old: ItemRecord | None) -> Reason | None:
    """Why ``item`` is to be done, or None when its record says it is done and nothing changed (the input's
    size/mtime aside, which the caller checks by content)."""
    if old is None:
        return Reason.NEW
    if not request.resume:
        return Reason.REDONE
    if old.status is not ItemStatus.DONE:
        return Reason.UNFINISHED
    if old.settings_hash != request.settings_hash:
        return Reason.SETTINGS_CHANGED
    if request.output_folder / old.destination != item.destination or not item.destination.exists():
        return Reason.OUTPUT_MISSING
    stat = item.source.stat()
    if (old.size, old.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
        return Reason.INPUT_CHANGED
    return None
