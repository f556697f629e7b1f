"""``--ray off``: the same items, ledger and worker as on Ray, one after another in this process."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from ldl_backend.batch.ledger import RunLedger
from ldl_backend.batch.plan import WorkItem
from ldl_backend.batch.worker import ItemWorker


def run_in_process(worker: ItemWorker, items: Sequence[WorkItem], ledger: RunLedger) -> None:
    """Run every item on ``worker``, a failure of the moment tried again at the end of the queue. On Ctrl-C the
    item in hand is released (its output was not written: writes are atomic) and ``KeyboardInterrupt`` goes on."""
    queue = deque(items)
    while queue:
        item = queue.popleft()
        ledger.start(item, str(worker.id))
        try:
            outcome = worker.run(item)
        except KeyboardInterrupt:
            ledger.release(item)
            raise
        if ledger.finish(item, outcome):
            queue.append(item)
