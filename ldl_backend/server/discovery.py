"""The discovery file: how clients on this machine find the server's port and token.

``server.json`` (mode 0600, written atomically) holds ``{"port", "pid", "token", "version", "api"}``; a clean exit
removes it, and a file whose pid is dead is stale.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ldl_backend.errors import LdlError
from ldl_backend.storage import atomic_output
from ldl_client.liveness import pid_alive

FILE_NAME = "server.json"


@dataclass(frozen=True)
class Discovery:
    port: int
    pid: int
    token: str
    version: str
    api: int


def discovery_path(runtime_dir: Path) -> Path:
    return runtime_dir / FILE_NAME


def write_discovery(path: Path, discovery: Discovery) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with atomic_output(path) as stream:
        os.fchmod(stream.fileno(), 0o600)
        stream.write(json.dumps(asdict(discovery)).encode("utf-8"))


def read_discovery(path: Path) -> Discovery | None:
    """The file's contents, or None when it is missing, unreadable or stale."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        discovery = Discovery(**document)
    except (OSError, ValueError, TypeError):
        return None
    return discovery if pid_alive(discovery.pid) else None


def remove_discovery(path: Path, pid: int) -> None:
    """Remove the file if it is still ours (a newer server may have replaced it)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def check_not_running(path: Path) -> None:
    running = read_discovery(path)
    if running is not None and running.pid != os.getpid():
        raise LdlError(
            f"a server is already running (pid {running.pid}, port {running.port})",
            "use it, or stop it first",
        )
