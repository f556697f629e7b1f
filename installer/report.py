"""What the installer prints: one line per thing a step did (or would do, with ``--dry-run``), and a count of the
changes so a second run can say that it changed nothing."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class Report:
    dry_run: bool = False
    changes: int = 0

    def changed(self, step: str, message: str) -> None:
        """Something was (or, in a dry run, would be) changed on disk."""
        self.changes += 1
        print(f"[{step}] {'would ' if self.dry_run else ''}{message}", flush=True)

    def same(self, step: str, message: str) -> None:
        """Nothing to do: already as wanted."""
        print(f"[{step}] {message}", flush=True)

    def warn(self, step: str, message: str) -> None:
        print(f"[{step}] warning: {message}", file=sys.stderr, flush=True)
