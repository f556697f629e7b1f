"""The training log: a CSV row every N iterations with the mean of each loss term since the previous row, the
generator's learning rate and the speed. A resumed run drops the rows written after its checkpoint."""

from __future__ import annotations

import csv
import time
from dataclasses import fields
from pathlib import Path

from ldl_backend.storage import write_atomically
from ldl_backend.training.step import StepLosses

LOSS_COLUMNS = tuple(f.name for f in fields(StepLosses))
COLUMNS = ("iteration", *LOSS_COLUMNS, "lr", "iterations_per_s")


class RunLog:
    """Appends to ``path`` (created with a header); ``resume_from`` keeps only the rows up to that iteration."""

    def __init__(self, path: Path, resume_from: int = 0) -> None:
        self.path = path
        rows = _read_rows(path) if resume_from and path.is_file() else []
        kept = [row for row in rows if int(row["iteration"]) <= resume_from]
        lines = [",".join(COLUMNS)] + [",".join(row[name] for name in COLUMNS) for row in kept]
        write_atomically(path, ("\n".join(lines) + "\n").encode())
        self._sums = dict.fromkeys(LOSS_COLUMNS, 0.0)
        self._count = 0
        self._since = time.perf_counter()

    def add(self, losses: StepLosses) -> None:
        for name, value in losses.as_dict().items():
            self._sums[name] += value
        self._count += 1

    @property
    def pending(self) -> bool:
        """True when iterations were added since the last row."""
        return self._count > 0

    def means(self) -> dict[str, float]:
        return {name: total / max(self._count, 1) for name, total in self._sums.items()}

    def write(self, iteration: int, lr: float) -> dict[str, float]:
        """Append the row for ``iteration`` and start a new interval; returns the row's values."""
        now = time.perf_counter()
        row = {"iteration": float(iteration), **self.means(), "lr": lr}
        row["iterations_per_s"] = self._count / max(now - self._since, 1e-9)
        with self.path.open("a", encoding="utf-8", newline="") as stream:
            stream.write(",".join(str(iteration) if name == "iteration" else f"{row[name]:.6g}" for name in COLUMNS))
            stream.write("\n")
        self._sums = dict.fromkeys(LOSS_COLUMNS, 0.0)
        self._count = 0
        self._since = now
        return row


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [row for row in csv.DictReader(stream) if set(COLUMNS) <= row.keys()]
