"""What a run prints at the end, and what ``ldl batch --status`` prints: text only, from a summary or a manifest."""

from __future__ import annotations

import time
from collections import Counter

from ldl_backend.batch.ledger import RunSummary
from ldl_backend.batch.manifest import ItemStatus, Manifest, WorkerTally

# Failed items listed one per line; beyond this many, the rest are counted (--status lists them all).
_SHOWN_FAILURES = 20


def format_summary(summary: RunSummary, *, show_all_failures: bool = False) -> str:
    rate = summary.done / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"{summary.total} image(s): {summary.done} done, {summary.skipped} skipped (unchanged), "
        f"{len(summary.failed)} failed" + (f", {summary.released} released" if summary.released else "")
        + f" in {summary.seconds:.1f} s ({rate:.2f} images/s)",
    ]  # fmt: skip
    lines += _worker_table(summary.workers, summary.seconds)
    lines += _failures(summary.failed, show_all_failures)
    if summary.interrupted:
        lines.append("interrupted: finished items are recorded; run again with --resume to do the rest")
    return "\n".join(lines)


def format_status(manifest: Manifest) -> str:
    """The manifest in a few lines: the last run, items by status, per-worker throughput, failures."""
    run = manifest.last_run()
    if run is None:
        return f"{manifest.path}: no batch has run here yet"
    items = manifest.items()
    counts = Counter(record.status for record in items.values())
    finished = run.finished if run.finished is not None else time.time()
    lines = [
        f"batch into {manifest.path.parent} from {run.input}",
        f"last run: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(run.started))}, {run.outcome}, "
        f"{run.workers}, {finished - run.started:.1f} s",
        f"{len(items)} item(s): " + ", ".join(f"{counts[status]} {status.value}" for status in ItemStatus),
    ]
    lines += _worker_table(manifest.tallies(run.id), finished - run.started)
    failed = {path: record.error or "failed" for path, record in items.items() if record.status is ItemStatus.FAILED}
    lines += _failures(failed, show_all=True)
    return "\n".join(lines)


def _worker_table(tallies: list[WorkerTally], wall_seconds: float) -> list[str]:
    if not tallies:
        return []
    width = max(len("worker"), *(len(tally.worker) for tally in tallies))
    lines = [f"  {'worker':<{width}}  images  busy s  images/s  s/image"]
    for tally in tallies:
        per_second = tally.items / wall_seconds if wall_seconds > 0 else 0.0
        lines.append(
            f"  {tally.worker:<{width}}  {tally.items:>6}  {tally.seconds:>6.1f}  {per_second:>8.2f}  "
            f"{tally.seconds / tally.items:>7.2f}"
        )
    return lines


def _failures(failed: dict[str, str], show_all: bool) -> list[str]:
    if not failed:
        return []
    shown = sorted(failed.items()) if show_all else sorted(failed.items())[:_SHOWN_FAILURES]
    lines = ["failed:"] + [f"  {path}: {error}" for path, error in shown]
    if len(shown) < len(failed):
        lines.append(f"  … and {len(failed) - len(shown)} more (`ldl batch --status OUTPUT_DIR` lists them all)")
    return lines
