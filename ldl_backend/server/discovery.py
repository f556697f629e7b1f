"""The server's side of the discovery file: where it goes and the refusal to start a second server. The file's
content, its writing and its reading are the client's (``ldl_client.discovery``), so both sides agree by
construction."""

from __future__ import annotations

import os
from pathlib import Path

from ldl_backend.errors import LdlError
from ldl_client.discovery import DiscoveryError, find_server
from ldl_client.locations import DISCOVERY_NAME


def discovery_path(runtime_dir: Path) -> Path:
    return runtime_dir / DISCOVERY_NAME


def check_not_running(path: Path) -> None:
    """Raise ``LdlError`` when a live server (not this process) owns ``path``. A stale file, or one that cannot be
    trusted or speaks another API version, is replaced when this server starts."""
    try:
        running, _ = find_server([path])
    except DiscoveryError:
        return
    if running is not None and running.pid != os.getpid():
        raise LdlError(
            f"a server is already running (pid {running.pid}, port {running.port})",
            "use it, or stop it first",
        )
