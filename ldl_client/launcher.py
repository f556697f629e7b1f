"""Starting ``ldl serve`` in the background when no server is running, detached from the host application."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# Windows creation flags, spelled out because the subprocess constants exist only on Windows builds.
_CREATE_NEW_PROCESS_GROUP = 0x00000200
_CREATE_NO_WINDOW = 0x08000000


def server_command(python: str) -> list[str]:
    return [python, "-m", "ldl_backend.cli", "serve"]


def start_server(python: str, log_file: Path, environment: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``python -m ldl_backend.cli serve``, its output appended to ``log_file``; returns at once.

    The server gets its own session (POSIX) or process group without a console (Windows) so that closing the host
    application or its terminal does not take it down. Raises ``OSError`` when ``python`` cannot be run.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    windows = sys.platform == "win32"
    with log_file.open("ab") as log:
        return subprocess.Popen(
            server_command(python),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ if environment is None else environment),
            close_fds=True,
            creationflags=_CREATE_NEW_PROCESS_GROUP | _CREATE_NO_WINDOW if windows else 0,
            start_new_session=not windows,
        )


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
