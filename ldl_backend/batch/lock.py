"""One ``ldl batch`` at a time per output folder: an exclusive lock on a file in it, held for the whole run.

``flock`` on an open file: released by the kernel when the process ends however it ends (no stale lock after a
crash), and per open file, so a second run in the same process is refused too. On NFS, Linux maps it onto the
server's byte-range locks, which every client sees.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from ldl_backend.errors import LdlError

LOCK_NAME = "ldl-batch.lock"


class BatchLockedError(LdlError):
    code = "batch_locked"


class OutputLock:
    """``with OutputLock(folder):`` holds the folder for this process; raises ``BatchLockedError`` (naming the
    holder's host and process id) when another run holds it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._descriptor: int | None = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(descriptor)
        except OSError as error:
            os.lseek(descriptor, 0, os.SEEK_SET)
            holder = os.read(descriptor, 200).decode(errors="replace").strip() or "another process"
            os.close(descriptor)
            raise BatchLockedError(
                f"another ldl batch ({holder}) is writing into {self.path.parent}",
                "wait for it to finish or stop it; two runs into one folder would redo each other's work",
            ) from error
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, f"host {socket.gethostname()}, pid {os.getpid()}, since {time.ctime()}".encode())
        self._descriptor = descriptor
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file releases the lock
            self._descriptor = None


if sys.platform == "win32":
    import msvcrt

    def _lock(descriptor: int) -> None:
        msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
