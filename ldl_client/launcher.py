"""Starting ``ldl serve`` in the background when no server is running, detached from the host application."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

# Windows creation flags, spelled out because the subprocess constants exist only on Windows builds.
_CREATE_NEW_PROCESS_GROUP = 0x00000200
_CREATE_NO_WINDOW = 0x08000000


def server_command(python: str, idle_exit: float | None = None) -> list[str]:
    command = [python, "-m", "ldl_backend.cli", "serve"]
    return command if idle_exit is None else [*command, "--idle-exit", f"{idle_exit:g}"]


def start_server(
    python: str, log_file: Path, environment: Mapping[str, str] | None = None, idle_exit: float | None = None
) -> subprocess.Popen[bytes]:
    """Start ``python -m ldl_backend.cli serve``, its output appended to ``log_file``; returns at once.

    The server gets its own session (POSIX) or process group without a console (Windows) so that closing the host
    application or its terminal does not take it down; ``idle_exit`` (seconds without requests and jobs) ends it
    once no front end uses it. The log (file names, errors) is the user's alone: 0600 in a 0700 folder.
    Raises ``OSError`` when ``python`` cannot be run.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    windows = sys.platform == "win32"
    with _private_append(log_file) as log:
        return subprocess.Popen(
            server_command(python, idle_exit),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ if environment is None else environment),
            close_fds=True,
            creationflags=_CREATE_NEW_PROCESS_GROUP | _CREATE_NO_WINDOW if windows else 0,
            start_new_session=not windows,
        )


def _private_append(path: Path) -> BinaryIO:
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    if hasattr(os, "fchmod"):  # a log an older version left 0644
        with contextlib.suppress(OSError):
            os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "ab")


def log_tail(log_file: Path, lines: int = 5) -> Sequence[str]:
    """The last lines of the log, for an error message; empty when it cannot be read."""
    try:
        with log_file.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ()
    return [line for line in text.splitlines() if line.strip()][-lines:]
